function folder = get_current_node_folder_path_data()
% GET_CURRENT_NODE_FOLDER_PATH_DATA  This node's data/ folder (the original fusionpipe's name);
%   while fusionpipe runs one item of a mapped node, that item's own folder (as fp_data_dir),
%   so that the items of old code never overwrite one another's outputs.
  get_current_node_folder_path();  % fails outside a node, as in the original
  folder = fp_data_dir();
  if ~isfolder(folder)
    error('fusionpipe:missingFolder', 'the node''s data folder does not exist: %s', folder);
  end
end
