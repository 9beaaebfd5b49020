// The Items section of the inspector for one mapped node: a page of its items (filtered by
// status and by a part of their id, paged by the server), the item opened with its log and
// outputs, and the runs of some of its items. Kept current from the live events.
import type { Item, ItemCounts, ItemPage, NodeLog, NodeStatus, OutputListing } from './api';
import { attempt } from './attempt';
import type { FusionpipeEvent } from './events';
import { LiveModel, RUN_BURST_MS } from './liveModel';
import { LOG_TAIL } from './nodeModel';
import type { PipelineModel } from './pipelineModel';

/** Items per page: a screenful of rows; the server pages, so 10,000 items cost one page. */
export const ITEMS_PAGE = 50;

/** How long the id filter waits for typing to pause before it asks the server, in ms. */
const TYPING_MS = 250;

export class ItemsModel extends LiveModel {
  constructor(
    readonly pipeline: PipelineModel,
    readonly nodeId: string,
  ) {
    super(pipeline.events, RUN_BURST_MS);
    // The counts come with the graph: its changes are this section's too.
    pipeline.changed.connect(this.emitChanged, this);
  }

  /** The node's item counts by status, as the graph has them; null once it is not mapped. */
  get counts(): ItemCounts | null {
    return this.pipeline.graph?.nodes.find((node) => node.id === this.nodeId)?.items ?? null;
  }

  get page(): ItemPage | undefined {
    return this._page;
  }

  get offset(): number {
    return this._offset;
  }

  /** Only the items with this status; null for all of them. */
  get status(): NodeStatus | null {
    return this._status;
  }

  /** Only the items whose id holds this text. */
  get query(): string {
    return this._query;
  }

  /** The item whose log and outputs are shown. */
  get opened(): Item | undefined {
    return this._opened;
  }

  get log(): NodeLog | undefined {
    return this._log;
  }

  get outputs(): OutputListing | undefined {
    return this._outputs;
  }

  /** The page starting at `offset`, with the filters as they are. */
  async goTo(offset: number): Promise<void> {
    const generation = ++this._generation;
    const page = await attempt('list the items', () =>
      this.pipeline.app.api.items(this.nodeId, {
        status: this._status ?? undefined,
        q: this._query.trim() || undefined,
        offset: Math.max(0, offset),
        limit: ITEMS_PAGE,
      }),
    );
    // A filter changed while this page was on its way: the newer request wins.
    if (page && generation === this._generation) {
      this._offset = Math.max(0, offset);
      this._page = page;
      const opened = this._opened && page.items.find((item) => item.id === this._opened?.id);
      if (opened) {
        this._opened = opened;
      }
      this.emitChanged();
    }
  }

  async setStatus(status: NodeStatus | null): Promise<void> {
    this._status = status;
    this.emitChanged();
    await this.goTo(0);
  }

  /** Filter by id; the server is asked once typing pauses. */
  setQuery(query: string): void {
    this._query = query;
    this.emitChanged();
    void this._typed.invoke();
  }

  /** Show an item's log and outputs; the same item again, or null, closes it. */
  async open(item: Item | null): Promise<void> {
    const same = item !== null && item.id === this._opened?.id;
    this._opened = same ? undefined : (item ?? undefined);
    this._log = undefined;
    this._outputs = undefined;
    this.emitChanged();
    await this.loadOpened();
  }

  /** An output file of the opened item, for a thumbnail. */
  outputBlob(path: string): Promise<Blob> {
    return this.pipeline.app.api.outputBlob(this.nodeId, path);
  }

  /** The first lines of a text output of the opened item. */
  outputHead(path: string, lines: number): Promise<string> {
    return this.pipeline.app.api.outputHead(this.nodeId, path, lines);
  }

  /** Run again the items that failed (the server says so when there are none). */
  runFailed(): Promise<void> {
    return this.pipeline.runItems(this.nodeId, 'failed');
  }

  runItem(itemId: string): Promise<void> {
    return this.pipeline.runItems(this.nodeId, [itemId]);
  }

  /** Open the Compare view of this node's items. */
  compare(): void {
    this.pipeline.app.showCompare(this.nodeId, 'items');
  }

  /** The page shown and the opened item's log and outputs, afresh. */
  async refresh(): Promise<void> {
    await this.goTo(this._offset);
    await this.loadOpened();
  }

  dispose(): void {
    this.pipeline.changed.disconnect(this.emitChanged, this);
    super.dispose();
  }

  protected onEvent(event: FusionpipeEvent): void {
    if (event.event === 'resync' || event.node_id === this.nodeId) {
      this.scheduleRefresh();
    }
  }

  private async loadOpened(): Promise<void> {
    const item = this._opened;
    if (!item) {
      return;
    }
    const api = this.pipeline.app.api;
    const loaded = await attempt('load the item', () =>
      Promise.all([
        api.log(this.nodeId, { item: item.id, tail: LOG_TAIL }),
        api.outputs(this.nodeId, item.id),
      ]),
    );
    if (loaded && this._opened?.id === item.id) {
      [this._log, this._outputs] = loaded;
      this.emitChanged();
    }
  }

  private _page: ItemPage | undefined;
  private _offset = 0;
  private _status: NodeStatus | null = null;
  private _query = '';
  private _opened: Item | undefined;
  private _log: NodeLog | undefined;
  private _outputs: OutputListing | undefined;
  private _generation = 0;
  private readonly _typed = this.debounce(() => this.goTo(0), TYPING_MS);
}
