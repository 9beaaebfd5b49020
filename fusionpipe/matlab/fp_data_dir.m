function folder = fp_data_dir()
% FP_DATA_DIR  Where this node writes its outputs (emptied before a stale or failed node runs
%   again; downstream nodes read it as fp_parent(...).data_dir).
  folder = fullfile(fp_folder(), 'data');
end
