// Command ids of the fusionpipe extension.
export const CommandIds = {
  openSidebar: 'fusionpipe:open-sidebar',
  createProject: 'fusionpipe:create-project',
  openPipeline: 'fusionpipe:open-pipeline',
} as const;

// Palette commands of the sidebar and the lineage graph.
export const SidebarCommandIds = {
  createPipeline: 'fusionpipe:create-pipeline',
  showLineage: 'fusionpipe:show-lineage',
  refresh: 'fusionpipe:refresh',
} as const;
