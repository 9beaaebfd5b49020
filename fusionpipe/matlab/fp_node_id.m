function id = fp_node_id()
% FP_NODE_ID  This node's id, such as 'n_3f9a0c...'.
  identity = fp_identity();
  id = identity.node_id;
end
