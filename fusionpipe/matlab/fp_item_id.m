function id = fp_item_id()
% FP_ITEM_ID  The id of the item this process runs ('shot=30101,method=fast'), also the name of
%   its folder in data/; '' when no item runs (an unmapped node, or outside a run).
  id = getenv('FUSIONPIPE_ITEM_ID');
end
