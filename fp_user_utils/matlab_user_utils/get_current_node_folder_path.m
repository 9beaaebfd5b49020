function folder = get_current_node_folder_path()
% GET_CURRENT_NODE_FOLDER_PATH  This node's folder (the original fusionpipe's name).
  fp_compat_init();
  folder = fp_folder();
end
