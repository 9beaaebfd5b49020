% This node's code, run with MATLAB or GNU Octave from code/ once every input (parent node)
% has completed. The fp_* helpers are on the path: help fp_parents, help fp_parent, ...

% node_parameters.yaml, as a struct.
parameters = fp_parameters();
fprintf('node %s running\n', fp_node_id());

% Inputs: the outputs of the parent nodes, in slot order ('01', '02', ...).
parents = fp_parents();
for k = 1:numel(parents)
  fprintf('input %s (%s): %s\n', parents(k).slot, parents(k).tag, parents(k).data_dir);
end
% One input by slot or by tag: fullfile(fp_parent('01').data_dir, 'result.txt')

% Outputs go to fp_data_dir(); plots and reports to fp_reports_dir().
fid = fopen(fullfile(fp_data_dir(), 'result.txt'), 'w');
fprintf(fid, 'done\n');
fclose(fid);
