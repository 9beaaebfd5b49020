function folder = get_current_node_folder_path_code()
% GET_CURRENT_NODE_FOLDER_PATH_CODE  This node's code/ folder (the original fusionpipe's name).
  folder = fullfile(get_current_node_folder_path(), 'code');
  if ~isfolder(folder)
    error('fusionpipe:missingFolder', 'the node''s code folder does not exist: %s', folder);
  end
end
