function ids = get_node_parents_db(~, node_id)
% GET_NODE_PARENTS_DB  The parent ids of the node as a cell array of char (the original gave a
%   string array, which GNU Octave lacks); the connection argument is ignored.
  parents = get_info_parents(node_id);
  ids = {parents.node_id};
end
