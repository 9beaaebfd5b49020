function parameters = fp_parameters()
% FP_PARAMETERS  This node's node_parameters.yaml as a struct, with the item's values merged in.
%   Taken from the copy fusionpipe keeps in the identity file, refreshed whenever parameters
%   are saved from the panel and before every run. Names that are not valid MATLAB names are
%   adjusted by jsondecode (learning-rate becomes learning_rate).
%   In a mapped node the map: declaration is left out (read the item with fp_item) and the
%   running item's values are added, winning over parameters of the same name.
  identity = fp_identity();
  if isfield(identity, 'parameters') && isstruct(identity.parameters)
    parameters = identity.parameters;
  else
    parameters = struct();
  end
  if isfield(parameters, 'map')
    parameters = rmfield(parameters, 'map');
  end
  values = fp_item();
  names = fieldnames(values);
  for k = 1:numel(names)
    parameters.(names{k}) = values.(names{k});
  end
end
