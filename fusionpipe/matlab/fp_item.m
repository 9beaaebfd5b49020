function values = fp_item()
% FP_ITEM  The values of the item of a mapped node this process runs, as a struct
%   (s.shot = 30101, s.method = 'fast'; a file item: s.file, the file's absolute path).
%   An empty struct (no fields) in an unmapped node, and outside a run. Names that are not
%   valid MATLAB names are adjusted by jsondecode.
  text = getenv('FUSIONPIPE_ITEM');
  if isempty(text)
    values = struct();
    return;
  end
  values = jsondecode(text);
  if ~isstruct(values) || ~isscalar(values)
    error('fusionpipe:badItem', 'FUSIONPIPE_ITEM must be a JSON object, not %s', text);
  end
end
