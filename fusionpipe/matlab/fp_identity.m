function identity = fp_identity()
% FP_IDENTITY  The node's identity file (.fusionpipe-node.json) as a struct.
  text = fileread(fullfile(fp_folder(), '.fusionpipe-node.json'));
  identity = jsondecode(text);
end
