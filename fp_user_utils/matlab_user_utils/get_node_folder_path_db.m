function folder = get_node_folder_path_db(~, node_id)
% GET_NODE_FOLDER_PATH_DB  The folder of this node or of one of its parents; the connection
%   argument is ignored (the original fusionpipe's name).
  if strcmp(node_id, get_current_node_id())
    folder = get_current_node_folder_path();
    return;
  end
  parents = get_info_parents(get_current_node_id());
  match = find(strcmp({parents.node_id}, node_id), 1);
  if isempty(match)
    error('fusionpipe:otherNode', 'only this node and its parents are known here, not %s', ...
          node_id);
  end
  folder = parents(match).folder_path;
end
