function parents = get_info_parents(node_id)
% GET_INFO_PARENTS  The parents of this node: a struct array with the fields node_id,
%   node_tag, folder_path and edge_id (the original fusionpipe's name and shape). Only the
%   current node's parents are known here.
  fp_compat_init();
  current = get_current_node_id();
  if ~strcmp(node_id, current)
    error('fusionpipe:otherNode', ...
          'get_info_parents knows only this node''s parents (%s), not those of %s', ...
          current, node_id);
  end
  parents = struct('node_id', {}, 'node_tag', {}, 'folder_path', {}, 'edge_id', {});
  for p = fp_parents()
    parents(end + 1) = struct('node_id', p.id, 'node_tag', p.tag, 'folder_path', p.folder, ...
                              'edge_id', p.slot);
  end
end
