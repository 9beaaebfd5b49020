function items = fp_parent_items(slot_or_tag)
% FP_PARENT_ITEMS  Every item of a mapped input, by slot ('01' or 1) or else by tag: a struct
%   array with the fields id, values (a struct), status ('completed', 'failed'...) and
%   data_dir (the item's folder, data/<id> in the parent's folder), in the order its map:
%   declares them. Read from the items.json fusionpipe writes there after each run.
%   Raises fusionpipe:noItems when the input is not mapped or has not run yet.
  p = fp_parent(slot_or_tag);
  path = fullfile(p.folder, 'items.json');
  if ~isfile(path)
    error('fusionpipe:noItems', ...
          'input %s (''%s'') has no items: it is not a mapped node or has not run yet (no %s)', ...
          p.slot, p.tag, path);
  end
  listing = jsondecode(fileread(path));
  items = struct('id', {}, 'values', {}, 'status', {}, 'data_dir', {});
  if ~isstruct(listing) || ~isfield(listing, 'items')
    error('fusionpipe:noItems', '%s, the items of input %s (''%s''), holds no list of items', ...
          path, p.slot, p.tag);
  end
  entries = listing.items;
  if isstruct(entries)
    entries = num2cell(entries);
  end
  outputs = fullfile(p.folder, 'data');
  for k = 1:numel(entries)
    entry = entries{k};
    values = struct();
    if isfield(entry, 'values') && isstruct(entry.values)
      values = entry.values;
    end
    status = 'ready';
    if isfield(entry, 'status') && ischar(entry.status)
      status = entry.status;
    end
    items(end + 1) = struct('id', entry.id, 'values', values, 'status', status, ...
                            'data_dir', fullfile(outputs, entry.id));
  end
end
