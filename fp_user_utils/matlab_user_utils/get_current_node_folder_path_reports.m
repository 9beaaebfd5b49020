function folder = get_current_node_folder_path_reports()
% GET_CURRENT_NODE_FOLDER_PATH_REPORTS  This node's reports/ folder (the original fusionpipe's name).
  folder = fullfile(get_current_node_folder_path(), 'reports');
  if ~isfolder(folder)
    error('fusionpipe:missingFolder', 'the node''s reports folder does not exist: %s', folder);
  end
end
