// The Compare view of one node: the values and metrics of its items, or of its runs, as the
// server tables them; kept current while items run. Sorting, filtering and plotting are the
// view's (components/Compare), on this one table.
import type { MetricsBy, MetricsTable } from './api';
import { attempt } from './attempt';
import type { FusionpipeEvent } from './events';
import { LiveModel, RUN_BURST_MS } from './liveModel';
import type { FusionpipeModel } from './model';

export class CompareModel extends LiveModel {
  constructor(
    readonly app: FusionpipeModel,
    readonly nodeId: string,
    by: MetricsBy,
  ) {
    super(app.events, RUN_BURST_MS);
    this._by = by;
  }

  /** Rows per item of the node, or per run of it. */
  get by(): MetricsBy {
    return this._by;
  }

  get table(): MetricsTable | undefined {
    return this._table;
  }

  /** The node's name, once loaded. */
  get title(): string {
    return this._title;
  }

  /** The node's name and its table. */
  async load(): Promise<void> {
    const node = await attempt('load the node', () => this.app.api.node(this.nodeId));
    if (node) {
      this._title = node.tag;
      this.emitChanged();
    }
    await this.refresh();
  }

  async setBy(by: MetricsBy): Promise<void> {
    this._by = by;
    this._table = undefined;
    this.emitChanged();
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const by = this._by;
    const table = await attempt('load the metrics', () => this.app.api.metrics(this.nodeId, by));
    // Switched to the other table while this one was on its way: that one wins.
    if (table && by === this._by) {
      this._table = table;
      this.emitChanged();
    }
  }

  protected onEvent(event: FusionpipeEvent): void {
    if (event.event === 'resync' || event.node_id === this.nodeId) {
      this.scheduleRefresh();
    }
  }

  private _by: MetricsBy;
  private _table: MetricsTable | undefined;
  private _title = '';
}
