function id = fp_node_id()
% FP_NODE_ID  This node's id.
  identity = fp_identity();
  id = identity.node_id;
end
