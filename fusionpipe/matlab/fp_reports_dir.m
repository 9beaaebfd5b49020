function folder = fp_reports_dir()
% FP_REPORTS_DIR  This node's reports/ folder.
  folder = fullfile(fp_folder(), 'reports');
end
