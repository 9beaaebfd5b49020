function fp_compat_init()
% FP_COMPAT_INIT  Put fusionpipe's own fp_* functions on the path: these helpers, with the
%   original fusionpipe's names, are answered by them. They sit beside this package
%   (site-packages/fusionpipe/matlab).
  if exist('fp_parents', 'file') == 2
    return;
  end
  here = fileparts(mfilename('fullpath'));           % .../fp_user_utils/matlab_user_utils/private
  root = fileparts(fileparts(fileparts(here)));      % the folder holding both packages
  addpath(fullfile(root, 'fusionpipe', 'matlab'));
end
