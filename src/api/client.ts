// The typed client of the fusionpipe REST API: the graph (graphClient.ts), runs, logs, outputs,
// and the items and metrics of mapped nodes.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { GraphApi } from './graphClient';
import { ApiError, errorMessage } from './http';
import type {
  ItemPage,
  ItemQuery,
  Kill,
  MetricsBy,
  MetricsTable,
  NodeLog,
  OutputListing,
  Run,
  RunPage,
  RunScope,
  RunWithProgress,
  WhoAmI,
} from './types';

/** `path?key=value&...` with the keys whose value is given, or `path` alone. */
function withQuery(path: string, fields: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== '') {
      query.set(key, String(value));
    }
  }
  return query.size ? `${path}?${query.toString()}` : path;
}

export class FusionpipeApi extends GraphApi {
  // Runs

  /** The whole pipeline, the nodes up to `until`, or the selected `node_ids`; `items`: only
   * some items of mapped nodes, or their failed ones. */
  startRun(pipelineId: string, scope: RunScope = {}): Promise<Run> {
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
    const { limit, offset, status } = page;
    return this.request<RunPage>(
      'GET',
      withQuery(`pipelines/${pipelineId}/runs`, { limit, offset: offset || undefined, status }),
    );
  }

  run(runId: string): Promise<RunWithProgress> {
    return this.request<RunWithProgress>('GET', `runs/${runId}`);
  }

  /** Who this user is in fusionpipe's records (a run's `requested_by`). */
  async me(): Promise<string> {
    return (await this.request<WhoAmI>('GET', 'whoami')).username;
  }

  /** What the node's data/ and reports/ hold; of a mapped node's `item`, that item's folder. */
  outputs(nodeId: string, item?: string): Promise<OutputListing> {
    return this.request<OutputListing>('GET', withQuery(`nodes/${nodeId}/outputs`, { item }));
  }

  /** A page of a mapped node's items, those with `status` or whose id holds `q`. */
  items(nodeId: string, query: ItemQuery = {}): Promise<ItemPage> {
    const { status, q, offset, limit } = query;
    return this.request<ItemPage>(
      'GET',
      withQuery(`nodes/${nodeId}/items`, { status, q, offset: offset || undefined, limit }),
    );
  }

  /** The values and metrics of a node's items, or of its runs, as one table. */
  metrics(nodeId: string, by: MetricsBy): Promise<MetricsTable> {
    return this.request<MetricsTable>('GET', withQuery(`nodes/${nodeId}/metrics`, { by }));
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

  /** The log of the node's latest run (or of `runId`), its last `tail` lines if given; of one
   * `item` of a mapped node, that item's log. */
  log(
    nodeId: string,
    options: { runId?: string; tail?: number; item?: string } = {},
  ): Promise<NodeLog> {
    const { runId, tail, item } = options;
    return this.request<NodeLog>(
      'GET',
      withQuery(`nodes/${nodeId}/log`, { item, run_id: runId, tail: tail || undefined }),
    );
  }

  /** The address of the live events websocket. */
  eventsUrl(): string {
    return URLExt.join(this.settings.wsUrl, 'fusionpipe', 'api', 'events');
  }
}
