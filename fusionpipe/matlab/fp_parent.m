function p = fp_parent(slot_or_tag)
% FP_PARENT  One input of this node, by slot ('01' or 1) or else by tag: a struct with the
%   fields id, tag, slot, folder and data_dir (see fp_parents). A slot always wins over a tag.
%   Errors (fusionpipe:noInput, fusionpipe:ambiguousTag) list the inputs there are.
  parents = fp_parents();
  described = strjoin(arrayfun(@(q) sprintf('%s (''%s'')', q.slot, q.tag), parents, ...
                               'UniformOutput', false), ', ');
  if isempty(parents)
    described = 'none';
  end
  if isnumeric(slot_or_tag)
    wanted = sprintf('%02d', slot_or_tag);
    matches = find(strcmp({parents.slot}, wanted));
  else
    wanted = slot_or_tag;
    matches = find(strcmp({parents.slot}, wanted));
    if isempty(matches)
      matches = find(strcmp({parents.tag}, wanted));
    end
  end
  if numel(matches) == 1
    p = parents(matches);
  elseif numel(matches) > 1
    error('fusionpipe:ambiguousTag', ...
          '%d inputs are tagged ''%s''; ask by slot instead. Inputs: %s', ...
          numel(matches), wanted, described);
  else
    error('fusionpipe:noInput', 'this node has no input ''%s''. Inputs: %s', wanted, described);
  end
end
