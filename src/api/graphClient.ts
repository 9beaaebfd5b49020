// The client of the graph: projects, pipelines, their nodes, edges and groups, copies, the trash,
// export and import. Answers are typed with the API's own types (types.ts).
import { ApiTransport } from './http';
import type {
  GraphEdge,
  GraphNode,
  Group,
  GroupBox,
  IdMap,
  NodeDetails,
  NodeKind,
  Pipeline,
  PipelineGraph,
  Project,
  ProjectGraph,
  SavedParameters,
  Size,
  TrashItem,
  UndoDone,
  UndoStacks,
  XY,
} from './types';

export class GraphApi extends ApiTransport {
  // Projects

  async listProjects(): Promise<Project[]> {
    return (await this.request<{ projects: Project[] }>('GET', 'projects')).projects;
  }

  createProject(fields: { tag?: string; notes?: string }): Promise<Project> {
    return this.request<Project>('POST', 'projects', fields);
  }

  updateProject(projectId: string, fields: { tag?: string; notes?: string }): Promise<Project> {
    return this.request<Project>('PATCH', `projects/${projectId}`, fields);
  }

  deleteProject(projectId: string, cascade = false): Promise<void> {
    return this.request<void>('DELETE', `projects/${projectId}${cascade ? '?cascade=true' : ''}`);
  }

  projectGraph(projectId: string): Promise<ProjectGraph> {
    return this.request<ProjectGraph>('GET', `projects/${projectId}/graph`);
  }

  // The trash

  async listTrash(): Promise<TrashItem[]> {
    return (await this.request<{ items: TrashItem[] }>('GET', 'trash')).items;
  }

  restoreTrash(itemId: string): Promise<TrashItem> {
    return this.request<TrashItem>('POST', `trash/${itemId}/restore`);
  }

  purgeTrash(itemId: string): Promise<void> {
    return this.request<void>('DELETE', `trash/${itemId}`);
  }

  // Pipelines

  async listPipelines(projectId: string): Promise<Pipeline[]> {
    const path = `pipelines?project_id=${encodeURIComponent(projectId)}`;
    return (await this.request<{ pipelines: Pipeline[] }>('GET', path)).pipelines;
  }

  createPipeline(projectId: string, tag?: string): Promise<Pipeline> {
    return this.request<Pipeline>('POST', 'pipelines', { project_id: projectId, tag });
  }

  /** The example pipeline (make data, fit, plot, report), in a new project of its own. */
  createExample(): Promise<Pipeline> {
    return this.request<Pipeline>('POST', 'examples', {});
  }

  pipeline(pipelineId: string): Promise<PipelineGraph> {
    return this.request<PipelineGraph>('GET', `pipelines/${pipelineId}`);
  }

  /** Rename, change notes, move to another project, lock or unlock. */
  updatePipeline(
    pipelineId: string,
    fields: { tag?: string; notes?: string; project_id?: string; locked?: boolean },
  ): Promise<Pipeline> {
    return this.request<Pipeline>('PATCH', `pipelines/${pipelineId}`, fields);
  }

  deletePipeline(pipelineId: string): Promise<void> {
    return this.request<void>('DELETE', `pipelines/${pipelineId}`);
  }

  duplicatePipeline(pipelineId: string, withData: boolean): Promise<Pipeline> {
    return this.request<Pipeline>('POST', `pipelines/${pipelineId}/duplicate`, {
      with_data: withData,
    });
  }

  branchPipeline(pipelineId: string, nodeId: string): Promise<Pipeline> {
    return this.request<Pipeline>('POST', `pipelines/${pipelineId}/branch`, { node_id: nodeId });
  }

  mergePipelines(pipelineIds: string[]): Promise<Pipeline> {
    return this.request<Pipeline>('POST', 'pipelines/merge', { pipeline_ids: pipelineIds });
  }

  /** Node positions, and the boxes of groups that moved with them: one edit to undo (an
   * `auto_layout` is named so on the undo stack). */
  savePositions(
    pipelineId: string,
    positions: Record<string, XY>,
    groups: Record<string, GroupBox> = {},
    autoLayout = false,
  ): Promise<void> {
    return this.request<void>('POST', `pipelines/${pipelineId}/positions`, {
      positions,
      groups,
      auto_layout: autoLayout,
    });
  }

  // Undo and redo of your own graph edits in a pipeline

  undoStacks(pipelineId: string): Promise<UndoStacks> {
    return this.request<UndoStacks>('GET', `pipelines/${pipelineId}/undo`);
  }

  undo(pipelineId: string): Promise<UndoDone> {
    return this.request<UndoDone>('POST', `pipelines/${pipelineId}/undo`);
  }

  redo(pipelineId: string): Promise<UndoDone> {
    return this.request<UndoDone>('POST', `pipelines/${pipelineId}/redo`);
  }

  // Nodes

  createNode(
    pipelineId: string,
    fields: { tag?: string; kind?: NodeKind; position?: XY },
  ): Promise<GraphNode> {
    return this.request<GraphNode>('POST', `pipelines/${pipelineId}/nodes`, fields);
  }

  node(nodeId: string): Promise<NodeDetails> {
    return this.request<NodeDetails>('GET', `nodes/${nodeId}`);
  }

  /** Tag, notes, position or lock of a node as this pipeline holds it. */
  updateNode(
    pipelineId: string,
    nodeId: string,
    fields: { tag?: string; notes?: string; position?: XY; locked?: boolean },
  ): Promise<GraphNode> {
    return this.request<GraphNode>('PATCH', `pipelines/${pipelineId}/nodes/${nodeId}`, fields);
  }

  deleteNode(pipelineId: string, nodeId: string): Promise<void> {
    return this.request<void>('DELETE', `pipelines/${pipelineId}/nodes/${nodeId}`);
  }

  async parameters(nodeId: string): Promise<string> {
    return (await this.request<{ content: string }>('GET', `nodes/${nodeId}/parameters`)).content;
  }

  saveParameters(nodeId: string, content: string): Promise<SavedParameters> {
    return this.request<SavedParameters>('PUT', `nodes/${nodeId}/parameters`, { content });
  }

  setStatus(pipelineId: string, nodeIds: string[], status: 'completed' | 'staledata') {
    return this.request<void>('POST', `pipelines/${pipelineId}/status`, {
      node_ids: nodeIds,
      status,
    });
  }

  clearOutputs(pipelineId: string, nodeIds: string[]): Promise<void> {
    return this.request<void>('POST', `pipelines/${pipelineId}/clear-outputs`, {
      node_ids: nodeIds,
    });
  }

  duplicateNodes(
    pipelineId: string,
    nodeIds: string[],
    targetPipelineId: string,
    withData: boolean,
  ): Promise<{ id_map: IdMap }> {
    return this.request('POST', `pipelines/${pipelineId}/duplicate-nodes`, {
      node_ids: nodeIds,
      target_pipeline_id: targetPipelineId,
      with_data: withData,
    });
  }

  referenceNodes(pipelineId: string, nodeIds: string[], targetPipelineId: string) {
    return this.request<void>('POST', `pipelines/${pipelineId}/reference-nodes`, {
      node_ids: nodeIds,
      target_pipeline_id: targetPipelineId,
    });
  }

  detach(pipelineId: string, nodeId: string): Promise<{ id_map: IdMap }> {
    return this.request('POST', `pipelines/${pipelineId}/detach`, { node_id: nodeId });
  }

  // Edges and groups

  connect(pipelineId: string, source: string, target: string): Promise<GraphEdge> {
    return this.request<GraphEdge>('POST', `pipelines/${pipelineId}/edges`, { source, target });
  }

  deleteEdge(pipelineId: string, edgeId: string): Promise<void> {
    return this.request<void>('DELETE', `pipelines/${pipelineId}/edges/${edgeId}`);
  }

  createGroup(
    pipelineId: string,
    fields: { node_ids: string[]; tag?: string; position?: XY; size?: Size },
  ): Promise<Group> {
    return this.request<Group>('POST', `pipelines/${pipelineId}/groups`, fields);
  }

  updateGroup(
    groupId: string,
    fields: { tag?: string; collapsed?: boolean; position?: XY; size?: Size },
  ): Promise<Group> {
    return this.request<Group>('PATCH', `groups/${groupId}`, fields);
  }

  deleteGroup(groupId: string): Promise<void> {
    return this.request<void>('DELETE', `groups/${groupId}`);
  }

  // Export and import

  /** The pipeline as a zip (pipeline.yaml + each node's code/) and the file name to save it as. */
  async exportPipeline(pipelineId: string): Promise<{ name: string; zip: Blob }> {
    const response = await this.send(`pipelines/${pipelineId}/export`, { method: 'GET' });
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'pipeline.zip';
    return { name, zip: await response.blob() };
  }

  /** A new pipeline in the project from a zip an export made. */
  async importPipeline(projectId: string, zip: Blob): Promise<Pipeline> {
    const init = { method: 'POST', body: zip, headers: { 'Content-Type': 'application/zip' } };
    return (await (await this.send(`projects/${projectId}/import`, init)).json()) as Pipeline;
  }
}
