// Command ids of the fusionpipe extension.
export const CommandIds = {
  openSidebar: 'fusionpipe:open-sidebar',
  createProject: 'fusionpipe:create-project',
  createPipeline: 'fusionpipe:create-pipeline',
  createExample: 'fusionpipe:create-example',
  openPipeline: 'fusionpipe:open-pipeline',
  showLineage: 'fusionpipe:show-lineage',
  showRuns: 'fusionpipe:show-runs',
  compare: 'fusionpipe:compare',
  refresh: 'fusionpipe:refresh',
} as const;
