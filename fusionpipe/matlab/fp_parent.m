function p = fp_parent(slot_or_tag)
% FP_PARENT  One input, by slot ('01' or 1) or else by tag.
  parents = fp_parents();
  if isnumeric(slot_or_tag)
    slot_or_tag = sprintf('%02d', slot_or_tag);
  end
  for k = 1:numel(parents)
    if strcmp(parents(k).slot, slot_or_tag)
      p = parents(k);
      return;
    end
  end
  matches = find(strcmp({parents.tag}, slot_or_tag));
  if numel(matches) == 1
    p = parents(matches);
    return;
  end
  if numel(matches) > 1
    error('fusionpipe:ambiguous', '%d inputs are tagged %s: use a slot instead', numel(matches), slot_or_tag);
  end
  error('fusionpipe:noInput', 'this node has no input %s', slot_or_tag);
end
