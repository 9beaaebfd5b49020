function folder = fp_code_dir()
% FP_CODE_DIR  This node's code/ folder.
  folder = fullfile(fp_folder(), 'code');
end
