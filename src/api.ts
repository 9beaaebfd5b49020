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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
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
    const data = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      throw new ApiError(response.status, data?.message ?? response.statusText);
    }
    return data as T;
  }

  async listProjects(): Promise<Project[]> {
    return (await this.request<{ projects: Project[] }>('GET', 'projects')).projects;
  }

  createProject(fields: { tag?: string; notes?: string }): Promise<Project> {
    return this.request<Project>('POST', 'projects', fields);
  }
}
