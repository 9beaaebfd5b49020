function folder = fp_reports_dir()
% FP_REPORTS_DIR  Where this node keeps plots and reports.
  folder = fullfile(fp_folder(), 'reports');
end
