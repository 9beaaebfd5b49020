function node_id = get_current_node_id()
% GET_CURRENT_NODE_ID  This node's id, or [] outside a node (the original fusionpipe's name).
  fp_compat_init();
  try
    node_id = fp_node_id();
  catch err
    if ~strcmp(err.identifier, 'fusionpipe:notInNode')
      rethrow(err);
    end
    node_id = [];
  end
end
