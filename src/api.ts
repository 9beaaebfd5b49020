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
}

export interface Pipeline {
  id: string;
  project_id: string;
  tag: string;
  notes: string;
  owner: string;
  locked: boolean;
}

export type NodeStatus = 'ready' | 'running' | 'completed' | 'failed' | 'staledata';

export interface GraphNode {
  id: string;
  tag: string;
  status: NodeStatus;
  kind: string;
  owner: string;
  folder: string;
  position: { x: number; y: number };
  referenced: boolean;
  locked: boolean;
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
}

export interface Run {
  id: string;
  pipeline_id: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
}

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
    const url = URLExt.join(this.settings.baseUrl, 'fusionpipe', 'api', path);
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `cannot reach the fusionpipe server: ${String(error)}`);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new ApiError(response.status, errorMessage(response, text));
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async listProjects(): Promise<Project[]> {
    return (await this.request<{ projects: Project[] }>('GET', 'projects')).projects;
  }

  createProject(fields: { tag?: string; notes?: string }): Promise<Project> {
    return this.request<Project>('POST', 'projects', fields);
  }

  async listPipelines(projectId: string): Promise<Pipeline[]> {
    const path = `pipelines?project_id=${encodeURIComponent(projectId)}`;
    return (await this.request<{ pipelines: Pipeline[] }>('GET', path)).pipelines;
  }

  createPipeline(projectId: string, tag?: string): Promise<Pipeline> {
    return this.request<Pipeline>('POST', 'pipelines', { project_id: projectId, tag });
  }

  pipeline(pipelineId: string): Promise<PipelineGraph> {
    return this.request<PipelineGraph>('GET', `pipelines/${pipelineId}`);
  }

  savePositions(pipelineId: string, positions: Record<string, { x: number; y: number }>) {
    return this.request<void>('POST', `pipelines/${pipelineId}/positions`, { positions });
  }

  startRun(pipelineId: string): Promise<Run> {
    return this.request<Run>('POST', `pipelines/${pipelineId}/runs`, {});
  }

  /** The address of the live events websocket. */
  eventsUrl(): string {
    return URLExt.join(this.settings.wsUrl, 'fusionpipe', 'api', 'events');
  }
}
