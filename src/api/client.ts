// The typed client of the fusionpipe REST API: the graph (graphClient.ts), runs, logs and outputs.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { GraphApi } from './graphClient';
import { ApiError, errorMessage } from './http';
import type { Kill, NodeLog, OutputListing, Run, RunPage, RunWithProgress, WhoAmI } from './types';

export class FusionpipeApi extends GraphApi {
  // Runs

  /** The whole pipeline, the nodes up to `until`, or the selected `node_ids`. */
  startRun(pipelineId: string, scope: { node_ids?: string[]; until?: string } = {}): Promise<Run> {
    return this.request<Run>('POST', `pipelines/${pipelineId}/runs`, scope);
  }

  cancelRun(runId: string): Promise<Run> {
    return this.request<Run>('POST', `runs/${runId}/cancel`, {});
  }

  /** Whether the node was killed; `message` says why not yet when another server runs it. */
  killNode(pipelineId: string, nodeId: string): Promise<Kill> {
    return this.request<Kill>('POST', `pipelines/${pipelineId}/nodes/${nodeId}/kill`, {});
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
    return (await this.request<WhoAmI>('GET', 'whoami')).username;
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
