function folder = get_current_node_folder_path_data()
% GET_CURRENT_NODE_FOLDER_PATH_DATA  This node's data/ folder (the original fusionpipe's name).
  folder = fullfile(get_current_node_folder_path(), 'data');
  if ~isfolder(folder)
    error('fusionpipe:missingFolder', 'the node''s data folder does not exist: %s', folder);
  end
end
