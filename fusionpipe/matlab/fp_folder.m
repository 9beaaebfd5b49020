function folder = fp_folder()
% FP_FOLDER  This fusionpipe node's folder (it holds code/, data/, reports/ and logs/).
%   Found from the environment variable FUSIONPIPE_NODE_FOLDER (set when fusionpipe runs the
%   node), else as the first folder above the current one holding .fusionpipe-node.json.
%   Outside any node it raises the error fusionpipe:notInNode.
  marker = '.fusionpipe-node.json';
  folder = getenv('FUSIONPIPE_NODE_FOLDER');
  if ~isempty(folder)
    if ~isfile(fullfile(folder, marker))
      error('fusionpipe:notInNode', ...
            'not inside a fusionpipe node: FUSIONPIPE_NODE_FOLDER is %s, which holds no %s', ...
            folder, marker);
    end
    return;
  end
  folder = pwd();
  while ~isfile(fullfile(folder, marker))
    above = fileparts(folder);
    if strcmp(above, folder)
      error('fusionpipe:notInNode', ...
            ['not inside a fusionpipe node (%s): fusionpipe finds the node from ' ...
             'FUSIONPIPE_NODE_FOLDER or, when that is not set, from the first folder above ' ...
             'the current one that holds %s'], pwd(), marker);
    end
    folder = above;
  end
end
