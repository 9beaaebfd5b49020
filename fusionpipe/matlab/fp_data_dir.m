function folder = fp_data_dir()
% FP_DATA_DIR  This node's data/ folder.
  folder = fullfile(fp_folder(), 'data');
end
