// The state of one pipeline's Runs view: a page of its runs (all or failed only), the run opened
// with its nodes, and the log of one of them; kept current from the live events.
import type { NodeLog, RunPage, RunWithProgress } from './api';
import { attempt } from './attempt';
import type { FusionpipeEvent } from './events';
import { LiveModel, RUN_BURST_MS } from './liveModel';
import type { FusionpipeModel } from './model';
import { LOG_TAIL } from './nodeModel';

/** Runs per page: enough to fill a tab, few enough to draw at once. */
export const RUNS_PAGE = 50;

export type RunFilter = 'all' | 'failed';

export class RunsModel extends LiveModel {
  constructor(
    readonly app: FusionpipeModel,
    readonly pipelineId: string,
  ) {
    super(app.events, RUN_BURST_MS);
  }

  get page(): RunPage | undefined {
    return this._page;
  }

  get filter(): RunFilter {
    return this._filter;
  }

  /** The pipeline's name, once loaded. */
  get title(): string {
    return this._title;
  }

  /** Node tags by id, to name the nodes of a run. */
  get tags(): Readonly<Record<string, string>> {
    return this._tags;
  }

  /** The run opened below the list. */
  get opened(): RunWithProgress | undefined {
    return this._opened;
  }

  /** The node of the opened run whose log is shown. */
  get logNode(): string | null {
    return this._logNode;
  }

  get log(): NodeLog | undefined {
    return this._log;
  }

  /** The pipeline's names and the first page of its runs. */
  async load(): Promise<void> {
    const graph = await attempt('load the pipeline', () => this.app.api.pipeline(this.pipelineId));
    if (graph) {
      this._title = graph.tag;
      this._tags = Object.fromEntries(graph.nodes.map((node) => [node.id, node.tag]));
    }
    await this.goTo(0);
  }

  /** Show the page starting at `offset`. */
  async goTo(offset: number): Promise<void> {
    const page = await attempt('load the runs', () =>
      this.app.api.runPage(this.pipelineId, {
        limit: RUNS_PAGE,
        offset: Math.max(0, offset),
        status: this._filter === 'failed' ? 'failed' : undefined,
      }),
    );
    if (page) {
      this._page = page;
      this.emitChanged();
    }
  }

  async setFilter(filter: RunFilter): Promise<void> {
    this._filter = filter;
    await this.goTo(0);
  }

  /** Open a run with its nodes; null closes it. */
  async open(runId: string | null): Promise<void> {
    this._logNode = null;
    this._log = undefined;
    if (runId === null) {
      this._opened = undefined;
      this.emitChanged();
      return;
    }
    const run = await attempt('load the run', () => this.app.api.run(runId));
    if (run) {
      this._opened = run;
      this.emitChanged();
    }
  }

  /** Show the log one node wrote in the opened run; null hides it. */
  async showLog(nodeId: string | null): Promise<void> {
    const run = this._opened;
    this._logNode = nodeId;
    this._log = undefined;
    this.emitChanged();
    if (run && nodeId) {
      const log = await attempt('load the log', () =>
        this.app.api.log(nodeId, { runId: run.id, tail: LOG_TAIL }),
      );
      if (log && this._logNode === nodeId) {
        this._log = log;
        this.emitChanged();
      }
    }
  }

  protected onEvent(event: FusionpipeEvent): void {
    const mine = event.pipeline_id === this.pipelineId;
    const opened = event.run_id !== undefined && event.run_id === this._opened?.id;
    if (event.event === 'resync' || (event.run_id && (mine || opened))) {
      this.scheduleRefresh();
    }
  }

  /** The page shown and the run opened, afresh. */
  async refresh(): Promise<void> {
    await this.goTo(this._page?.offset ?? 0);
    const run = this._opened;
    if (run) {
      const fresh = await attempt('load the run', () => this.app.api.run(run.id));
      if (fresh && this._opened?.id === fresh.id) {
        this._opened = fresh;
        this.emitChanged();
      }
    }
  }

  private _page: RunPage | undefined;
  private _filter: RunFilter = 'all';
  private _title = '';
  private _tags: Record<string, string> = {};
  private _opened: RunWithProgress | undefined;
  private _logNode: string | null = null;
  private _log: NodeLog | undefined;
}
