function info = get_parent_info_from_edge_id(edge_id)
% GET_PARENT_INFO_FROM_EDGE_ID  The parent on edge (slot) edge_id, such as '01', as a struct
%   with the fields node_id, node_tag, folder_path and edge_id, or [] when there is none.
  parents = get_info_parents(get_current_node_id());
  match = find(strcmp({parents.edge_id}, edge_id), 1);
  if isempty(match)
    info = [];
  else
    info = parents(match);
  end
end
