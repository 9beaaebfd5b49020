function parameters = fp_parameters()
% FP_PARAMETERS  This node's node_parameters.yaml as a struct.
%   Taken from the copy fusionpipe keeps in the identity file, refreshed whenever parameters
%   are saved from the panel and before every run. Names that are not valid MATLAB names are
%   adjusted by jsondecode (learning-rate becomes learning_rate).
  identity = fp_identity();
  if isfield(identity, 'parameters') && isstruct(identity.parameters)
    parameters = identity.parameters;
  else
    parameters = struct();
  end
end
