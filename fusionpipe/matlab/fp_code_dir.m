function folder = fp_code_dir()
% FP_CODE_DIR  This node's code/ folder (entry point, node_parameters.yaml).
  folder = fullfile(fp_folder(), 'code');
end
