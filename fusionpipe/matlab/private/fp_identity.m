function identity = fp_identity()
% FP_IDENTITY  This node's identity file (.fusionpipe-node.json) as a struct, read afresh.
  path = fullfile(fp_folder(), '.fusionpipe-node.json');
  identity = jsondecode(fileread(path));
  if ~isstruct(identity) || ~isfield(identity, 'node_id')
    error('fusionpipe:notInNode', '%s is not a fusionpipe identity file (no node_id)', path);
  end
end
