// Typed client of the fusionpipe REST API. Requests go through ServerConnection, which adds
// the token and the XSRF header; a non-2xx answer becomes an ApiError with the server's message.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface Project {
  id: string;
  tag: string;
  notes: string;
  owner: string;
  created_at: string;
  updated_at: string;
  /** Whether you may delete it (the server's rule: its owner or an admin); absent: unknown. */
  may_manage?: boolean;
}

export interface Pipeline {
  id: string;
  project_id: string;
  tag: string;
  notes: string;
  owner: string;
  locked: boolean;
  /** Whether you may delete, move, lock or unlock it; absent (a graph): unknown. */
  may_manage?: boolean;
}

/** Something deleted, kept in the trash until `expires_at` to be restored. */
export interface TrashItem {
  id: string;
  kind: 'project' | 'pipeline' | 'node';
  item_id: string;
  tag: string;
  owner: string;
  deleted_by: string;
  deleted_at: string;
  expires_at: string;
  pipeline_id: string | null;
  project_id: string | null;
  /** How many pipelines and nodes it holds. */
  counts: { pipelines: number; nodes: number };
}

export type NodeStatus = 'ready' | 'running' | 'completed' | 'failed' | 'staledata';
export type NodeKind = 'python' | 'notebook' | 'matlab' | 'shell';
export interface XY {
  x: number;
  y: number;
}
export interface Size {
  width: number;
  height: number;
}

export interface GraphNode {
  id: string;
  project_id: string;
  tag: string;
  notes: string;
  status: NodeStatus;
  kind: NodeKind;
  owner: string;
  /** Absolute path of the node folder on the server. */
  folder: string;
  position: XY;
  group: string | null;
  referenced: boolean;
  /** Derived by the server: the node is locked itself, or a locked pipeline holds it. */
  locked: boolean;
  /** Why it is locked (the node's own lock wins), null when it is not. */
  locked_by: LockedBy | null;
  /** When the node's current run started (ISO-8601), while it is running. */
  started_at: string | null;
  /** Why the node is stale (empty when up to date); absent from servers that do not say. */
  stale_reasons?: StaleReason[];
}

export interface StaleReason {
  kind: string;
  message: string;
}

/** Which run made a node's outputs, and by whom; `restored_from` when taken from the cache. */
export interface MadeBy {
  run_id: string;
  finished_at: string | null;
  requested_by: string;
  restored_from: string | null;
}

export type LockedBy = { kind: 'node' } | { kind: 'pipeline'; id: string; tag: string };

/** `GET nodes/{id}`: a node with the pipelines holding it, its kernel and environment. */
export interface NodeDetails extends GraphNode {
  pipelines: string[];
  kernel: string;
  environment: string;
  /** The folder relative to the Jupyter root, for the file browser; null when unreachable. */
  lab_path: string | null;
  made_by?: MadeBy | null;
}

export interface Group {
  id: string;
  pipeline_id: string;
  tag: string;
  collapsed: boolean;
  position: XY;
  size: Size;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  slot: string;
}

export interface PipelineGraph extends Pipeline {
  nodes: GraphNode[];
  edges: GraphEdge[];
  groups: Group[];
}

export interface ProjectGraph {
  project: Project;
  pipelines: Pipeline[];
  /** How each pipeline was made from another: branch, duplicate or merge. */
  edges: { source: string; target: string; relation: string }[];
}

/** One execution of a node in a run: a failed node runs again while its `retries` allow. */
export interface NodeAttempt {
  attempt: number;
  backend: string | null;
  started_at: string;
  finished_at: string | null;
  exit_code: number | null;
  reason: string;
  duration: number | null;
}

export interface RunNode {
  node_id: string;
  status: string;
  backend: string | null;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  reason: string;
  duration: number | null;
  /** The attempt running or last run, of `attempts` (1 + the node's retries). */
  attempt: number;
  attempts: number;
  /** Every attempt that started (filled for a single run, empty in lists of runs). */
  tries: NodeAttempt[];
}

export interface Run {
  id: string;
  pipeline_id: string;
  requested_by: string;
  scope: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  nodes: RunNode[];
}

/** How far a run has got; `eta_s` is null when earlier runs give nothing to estimate from. */
export interface RunProgress {
  done: number;
  total: number;
  elapsed_s: number;
  eta_s: number | null;
}

export interface RunWithProgress extends Run {
  progress: RunProgress;
}

export interface RunPage {
  runs: Run[];
  /** How many runs the filter lets through, in all pages. */
  total: number;
  limit: number;
  offset: number;
}

export type OutputKind = 'image' | 'csv' | 'text' | 'html' | 'notebook' | 'other';

export interface OutputEntry {
  /** Relative to the node folder: `data/...` or `reports/...`. */
  path: string;
  size: number;
  kind: OutputKind;
}

export interface OutputListing {
  node_id: string;
  /** The first entries only (200). */
  entries: OutputEntry[];
  /** How many files there are; a lower bound when `complete` is false. */
  total: number;
  complete: boolean;
}

export interface NodeLog {
  node_id: string;
  run_id: string | null;
  content: string;
}

/** Old id -> new id of the nodes a copy made. */
export type IdMap = Record<string, string>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The server's `{"message": ...}`; an answer that is not fusionpipe's own (the HTML 404 page
 * when the server extension is not enabled, a proxy's error page) falls back to the HTTP status.
 */
function errorMessage(response: Response, text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string' && message) {
      return message;
    }
  } catch {
    // Not JSON: use the status line below.
  }
  return `${response.status} ${response.statusText}`.trim();
}

export class FusionpipeApi {
  constructor(private readonly settings = ServerConnection.makeSettings()) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    const text = await (await this.send(path, init)).text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The answer to a request, once it is known to be a success (else an ApiError). */
  private async send(path: string, init: RequestInit): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, 'fusionpipe', 'api', path);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `cannot reach the fusionpipe server: ${String(error)}`);
    }
    if (!response.ok) {
      throw new ApiError(response.status, errorMessage(response, await response.text()));
    }
    return response;
  }

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

  savePositions(pipelineId: string, positions: Record<string, XY>): Promise<void> {
    return this.request<void>('POST', `pipelines/${pipelineId}/positions`, { positions });
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

  saveParameters(nodeId: string, content: string): Promise<unknown> {
    return this.request<unknown>('PUT', `nodes/${nodeId}/parameters`, { content });
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

  // Runs

  /** The whole pipeline, the nodes up to `until`, or the selected `node_ids`. */
  startRun(pipelineId: string, scope: { node_ids?: string[]; until?: string } = {}): Promise<Run> {
    return this.request<Run>('POST', `pipelines/${pipelineId}/runs`, scope);
  }

  cancelRun(runId: string): Promise<Run> {
    return this.request<Run>('POST', `runs/${runId}/cancel`, {});
  }

  killNode(pipelineId: string, nodeId: string): Promise<unknown> {
    return this.request<unknown>('POST', `pipelines/${pipelineId}/nodes/${nodeId}/kill`, {});
  }

  async pipelineRuns(pipelineId: string, limit = 20): Promise<Run[]> {
    return (await this.runPage(pipelineId, { limit })).runs;
  }

  /** A page of the pipeline's runs, newest first, optionally only those with `status`. */
  runPage(
    pipelineId: string,
    page: { limit: number; offset?: number; status?: string },
  ): Promise<RunPage> {
    const query = new URLSearchParams({ limit: String(page.limit) });
    if (page.offset) {
      query.set('offset', String(page.offset));
    }
    if (page.status) {
      query.set('status', page.status);
    }
    return this.request<RunPage>('GET', `pipelines/${pipelineId}/runs?${query.toString()}`);
  }

  run(runId: string): Promise<RunWithProgress> {
    return this.request<RunWithProgress>('GET', `runs/${runId}`);
  }

  /** Who this user is in fusionpipe's records (a run's `requested_by`). */
  async me(): Promise<string> {
    return (await this.request<{ username: string }>('GET', 'whoami')).username;
  }

  outputs(nodeId: string): Promise<OutputListing> {
    return this.request<OutputListing>('GET', `nodes/${nodeId}/outputs`);
  }

  private outputUrl(nodeId: string, path: string, query = ''): string {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    return (
      URLExt.join(this.settings.baseUrl, 'fusionpipe', 'api', 'nodes', nodeId, 'outputs', encoded) +
      query
    );
  }

  /** An output file's bytes (for a thumbnail). */
  async outputBlob(nodeId: string, path: string): Promise<Blob> {
    const response = await ServerConnection.makeRequest(
      this.outputUrl(nodeId, path),
      {},
      this.settings,
    );
    if (!response.ok) {
      throw new ApiError(response.status, errorMessage(response, await response.text()));
    }
    return response.blob();
  }

  /** The first `lines` lines of a text output. */
  async outputHead(nodeId: string, path: string, lines: number): Promise<string> {
    const response = await ServerConnection.makeRequest(
      this.outputUrl(nodeId, path, `?head=${lines}`),
      {},
      this.settings,
    );
    const text = await response.text();
    if (!response.ok) {
      throw new ApiError(response.status, errorMessage(response, text));
    }
    return text;
  }

  async nodeRuns(nodeId: string, limit = 20): Promise<Run[]> {
    return (await this.request<{ runs: Run[] }>('GET', `nodes/${nodeId}/runs?limit=${limit}`)).runs;
  }

  /** The log of the node's latest run (or of `runId`), its last `tail` lines if given. */
  log(nodeId: string, options: { runId?: string; tail?: number } = {}): Promise<NodeLog> {
    const query = new URLSearchParams();
    if (options.runId) {
      query.set('run_id', options.runId);
    }
    if (options.tail) {
      query.set('tail', String(options.tail));
    }
    const suffix = query.size ? `?${query.toString()}` : '';
    return this.request<NodeLog>('GET', `nodes/${nodeId}/log${suffix}`);
  }

  /** The address of the live events websocket. */
  eventsUrl(): string {
    return URLExt.join(this.settings.wsUrl, 'fusionpipe', 'api', 'events');
  }
}
