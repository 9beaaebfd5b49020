function recorded = fp_metrics(varargin)
% FP_METRICS  Record scalar results of this run (of this item, in a mapped node), as name/value
%   pairs: fp_metrics('chi2', 0.31, 'converged', true). Returns every metric recorded so far
%   in this run, as a struct.
%   Names are valid MATLAB names; values are real finite numeric scalars, logical scalars or
%   text (char rows or strings). Anything else raises fusionpipe:badMetric naming the metric.
%   fusionpipe names the file of a run (FUSIONPIPE_METRICS_FILE) and keeps the metrics per
%   run and per item; outside a run they go to reports/metrics.json in the node's folder.
  if mod(numel(varargin), 2) ~= 0
    error('fusionpipe:badMetric', 'fp_metrics takes name/value pairs: %d arguments given', ...
          numel(varargin));
  end
  checked = struct();
  for k = 1:2:numel(varargin)
    name = varargin{k};
    if isstring(name) && isscalar(name)
      name = char(name);
    end
    if ~ischar(name) || ~isvarname(name)
      error('fusionpipe:badMetric', 'argument %d must be a metric name (a valid MATLAB name)', k);
    end
    checked.(name) = scalar_metric(name, varargin{k + 1});
  end
  path = getenv('FUSIONPIPE_METRICS_FILE');
  if isempty(path)
    path = fullfile(fp_reports_dir(), 'metrics.json');
  end
  recorded = struct();
  if isfile(path)
    text = fileread(path);
    if ~isempty(strtrim(text))
      recorded = jsondecode(text);
      if ~isstruct(recorded) || ~isscalar(recorded)
        error('fusionpipe:badMetric', 'the metrics file %s must hold a JSON object', path);
      end
    end
  end
  names = fieldnames(checked);
  for k = 1:numel(names)
    recorded.(names{k}) = checked.(names{k});
  end
  folder = fileparts(path);
  if ~isfolder(folder)
    mkdir(folder);
  end
  % Written beside and renamed over: a reader never sees half a file.
  temporary = fullfile(folder, sprintf('.metrics-%d.json', feature_pid()));
  handle = fopen(temporary, 'w');
  if handle < 0
    error('fusionpipe:badMetric', 'cannot write the metrics file %s', temporary);
  end
  fprintf(handle, '%s', jsonencode(recorded));
  fclose(handle);
  if exist('OCTAVE_VERSION', 'builtin')
    [status, message] = rename(temporary, path);
    if status ~= 0
      error('fusionpipe:badMetric', 'cannot write the metrics file %s: %s', path, message);
    end
  else
    movefile(temporary, path, 'f');
  end
end

function value = scalar_metric(name, value)
  if isstring(value) && isscalar(value)
    value = char(value);
  end
  if ischar(value) && (isrow(value) || isempty(value))
    return;
  end
  if islogical(value) && isscalar(value)
    return;
  end
  if isnumeric(value) && isscalar(value) && isreal(value)
    if ~isfinite(value)
      error('fusionpipe:badMetric', 'metric ''%s'' must be a finite number, not %g', name, value);
    end
    value = double(value);
    return;
  end
  error('fusionpipe:badMetric', ...
        'metric ''%s'' must be a real number, a logical or text (one value), not a %s %s', ...
        name, mat2str(size(value)), class(value));
end

function pid = feature_pid()
  if exist('OCTAVE_VERSION', 'builtin')
    pid = getpid();
  else
    pid = feature('getpid');
  end
end
