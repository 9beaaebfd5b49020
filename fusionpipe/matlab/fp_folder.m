function folder = fp_folder()
% FP_FOLDER  This fusionpipe node's folder.
%   From FUSIONPIPE_NODE_FOLDER (set when fusionpipe runs the node), else the first folder
%   above the current one that holds .fusionpipe-node.json.
  folder = getenv('FUSIONPIPE_NODE_FOLDER');
  if ~isempty(folder)
    if ~exist(fullfile(folder, '.fusionpipe-node.json'), 'file')
      error('fusionpipe:notInNode', 'FUSIONPIPE_NODE_FOLDER is %s, which holds no .fusionpipe-node.json', folder);
    end
    return;
  end
  folder = pwd();
  while true
    if exist(fullfile(folder, '.fusionpipe-node.json'), 'file')
      return;
    end
    above = fileparts(folder);
    if strcmp(above, folder)
      error('fusionpipe:notInNode', 'not inside a fusionpipe node: FUSIONPIPE_NODE_FOLDER is not set and no folder above %s holds .fusionpipe-node.json', pwd());
    end
    folder = above;
  end
end
