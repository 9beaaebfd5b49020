function folder = get_parent_folder_path_from_edge_id(edge_id)
% GET_PARENT_FOLDER_PATH_FROM_EDGE_ID  The folder of the parent on edge edge_id, or [].
  info = get_parent_info_from_edge_id(edge_id);
  if isempty(info)
    folder = [];
  else
    folder = info.folder_path;
  end
end
