function parents = get_node_parents_and_edge_ids(~, node_id)
% GET_NODE_PARENTS_AND_EDGE_IDS  Struct array with the fields parent_id and edge_id; the
%   connection argument is ignored (the original fusionpipe's name and shape).
  parents = struct('parent_id', {}, 'edge_id', {});
  for p = get_info_parents(node_id)
    parents(end + 1) = struct('parent_id', p.node_id, 'edge_id', p.edge_id);
  end
end
