function parameters = fp_parameters()
% FP_PARAMETERS  The node's node_parameters.yaml as a struct (the copy fusionpipe keeps in the
%   identity file, refreshed when parameters are saved and before every run).
  identity = fp_identity();
  if isfield(identity, 'parameters') && isstruct(identity.parameters)
    parameters = identity.parameters;
  else
    parameters = struct();
  end
end
