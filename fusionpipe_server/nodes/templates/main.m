% Entry point of this node, run with MATLAB or GNU Octave from code/.
% The fp_* helpers (fp_node_id, fp_data_dir, fp_parameters, fp_parents, fp_parent) are on the path.
parameters = fp_parameters();
fprintf('node %s running\n', fp_node_id());
parents = fp_parents();
for k = 1:numel(parents)
  fprintf('input %s from %s\n', parents(k).slot, parents(k).tag);
end
fid = fopen(fullfile(fp_data_dir(), 'result.txt'), 'w');
fprintf(fid, 'done\n');
fclose(fid);
