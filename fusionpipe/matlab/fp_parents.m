function parents = fp_parents()
% FP_PARENTS  The node's inputs in slot order: a struct array with fields
%   id, tag, slot, folder, data_dir.
  identity = fp_identity();
  root = fileparts(fileparts(fp_folder()));
  parents = struct('id', {}, 'tag', {}, 'slot', {}, 'folder', {}, 'data_dir', {});
  if ~isfield(identity, 'parents') || isempty(identity.parents)
    return;
  end
  entries = identity.parents;
  if iscell(entries)
    entries = [entries{:}];
  end
  slots = {entries.slot};
  [~, order] = sort(cellfun(@(s) sprintf('%08d', str2double(s)), slots, 'UniformOutput', false));
  for k = order(:)'
    entry = entries(k);
    folder = fullfile(root, entry.folder);
    parents(end + 1) = struct('id', entry.id, 'tag', entry.tag, 'slot', entry.slot, ...
                              'folder', folder, 'data_dir', fullfile(folder, 'data'));
  end
end
