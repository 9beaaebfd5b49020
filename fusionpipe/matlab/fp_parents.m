function parents = fp_parents()
% FP_PARENTS  This node's inputs in slot order ('01', '02', ...): a struct array with the
%   fields id, tag, slot, folder (the parent's node folder) and data_dir (its outputs: its
%   data/ folder or, while this node runs an item mapped along that input, the matching
%   item's folder data/<item id>). Empty (0x0) for a node without inputs.
  identity = fp_identity();
  root = fileparts(fileparts(fp_folder()));  % parent folders are relative to the data folder
  parents = struct('id', {}, 'tag', {}, 'slot', {}, 'folder', {}, 'data_dir', {});
  if ~isfield(identity, 'parents') || isempty(identity.parents)
    return;
  end
  entries = identity.parents;
  if iscell(entries)  % jsondecode gives a cell array when the entries differ in shape
    entries = [entries{:}];
  end
  % Slots sort like numbers: by length first, so '100' comes after '99'.
  keys = arrayfun(@(e) sprintf('%04d%s', numel(e.slot), e.slot), entries, ...
                  'UniformOutput', false);
  [~, order] = sort(keys);
  along = getenv('FUSIONPIPE_ALONG');
  item_id = getenv('FUSIONPIPE_ITEM_ID');
  for k = order(:)'
    entry = entries(k);
    folder = fullfile(root, entry.folder);
    outputs = fullfile(folder, 'data');
    if ~isempty(item_id) && strcmp(along, entry.slot)
      outputs = fullfile(outputs, item_id);
    end
    parents(end + 1) = struct('id', entry.id, 'tag', entry.tag, 'slot', entry.slot, ...
                              'folder', folder, 'data_dir', outputs);
  end
end
