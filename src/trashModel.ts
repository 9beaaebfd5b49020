// The recently deleted projects, pipelines and nodes: listed while the sidebar shows them, kept
// current from the live events, restored or deleted for good.
import { Notification } from '@jupyterlab/apputils';

import type { FusionpipeApi, TrashItem } from './api';
import { attempt } from './attempt';
import type { EventStream, FusionpipeEvent } from './events';
import { LiveModel } from './liveModel';

export class TrashModel extends LiveModel {
  /** `restored`: reloads what a restore brings back (the projects and pipelines listed). */
  constructor(
    events: EventStream,
    private readonly api: FusionpipeApi,
    private readonly restored: () => Promise<void>,
  ) {
    super(events);
  }

  /** What you may restore, newest first, as last loaded. */
  get items(): readonly TrashItem[] {
    return this._items;
  }

  /** Loads the trash, and keeps it current from then on (until `forget`). */
  async refresh(): Promise<void> {
    this._shown = true;
    const items = await attempt('list the recently deleted', () => this.api.listTrash());
    if (items) {
      this._items = items;
      this.emitChanged();
    }
  }

  /** The list is no longer shown: stop reloading it on every deletion. */
  forget(): void {
    this._shown = false;
  }

  /** Puts a deleted project, pipeline or node back; the server says why when it cannot. */
  async restore(item: TrashItem): Promise<boolean> {
    const done = await attempt(`restore "${item.tag}"`, async () => {
      await this.api.restoreTrash(item.id);
      return true;
    });
    if (done) {
      Notification.success(`Restored ${item.kind} "${item.tag}".`, { autoClose: 5000 });
      await this.restored();
      await this.refresh();
    }
    return done ?? false;
  }

  /** Deletes a trash item for good, folders included. */
  async purge(item: TrashItem): Promise<boolean> {
    const done = await attempt(`delete ${item.kind} "${item.tag}" for good`, async () => {
      await this.api.purgeTrash(item.id);
      return true;
    });
    if (done) {
      await this.refresh();
    }
    return done ?? false;
  }

  protected onEvent(event: FusionpipeEvent): void {
    if ((event.event === 'trash.changed' || event.event === 'resync') && this._shown) {
      this.scheduleRefresh();
    }
  }

  private _items: readonly TrashItem[] = [];
  private _shown = false;
}
