function folder = fp_data_dir()
% FP_DATA_DIR  Where this node writes its outputs: its data/ folder or, while fusionpipe runs one
%   item of a mapped node, that item's own folder data/<item id> (FUSIONPIPE_DATA_DIR).
%   Emptied before a stale or failed node (or item) runs again; downstream nodes read it as
%   fp_parent(...).data_dir.
  folder = getenv('FUSIONPIPE_DATA_DIR');
  if isempty(folder)
    folder = fullfile(fp_folder(), 'data');
  end
end
