// Command ids of the fusionpipe extension.
export const CommandIds = {
  openSidebar: 'fusionpipe:open-sidebar',
  createProject: 'fusionpipe:create-project',
  openPipeline: 'fusionpipe:open-pipeline',
} as const;
