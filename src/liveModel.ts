// The base of every model kept current from the server's live events: it listens to the one
// event connection, says `changed` when what it holds has changed, and turns a burst of events
// (a run sends dozens, a merge several) into one reload.
import type { IDisposable } from '@lumino/disposable';
import { Debouncer } from '@lumino/polling';
import { type ISignal, Signal } from '@lumino/signaling';

import type { EventStream, FusionpipeEvent } from './events';

/** How long a burst of events may last, in ms, before the models reload what it changed. */
export const BURST_MS = 50;

/** The same for the views that follow a run node by node (the inspector, the Runs view): a
 * run's events about its nodes come in longer bursts. */
export const RUN_BURST_MS = 100;

export abstract class LiveModel implements IDisposable {
  /** `burst`: how long `scheduleRefresh` waits for the events that follow before reloading. */
  constructor(
    readonly events: EventStream,
    burst = BURST_MS,
  ) {
    this._refresh = this.debounce(() => this.refresh(), burst);
    events.received.connect(this.received, this);
  }

  /** Emitted whenever what the model holds has changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Load what the model shows afresh from the server. */
  abstract refresh(): Promise<void>;

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.events.received.disconnect(this.received, this);
    this._debouncers.forEach((debouncer) => debouncer.dispose());
    Signal.clearData(this);
  }

  /** What the model does with one server event; the base only listens. */
  protected abstract onEvent(event: FusionpipeEvent): void;

  protected emitChanged(): void {
    this._changed.emit();
  }

  /** `refresh` once the current burst of events is over. */
  protected scheduleRefresh(): void {
    void this._refresh.invoke();
  }

  /** `action` once calls to the result have stopped for `limit` ms (with the last arguments);
   * stopped when the model is disposed. */
  protected debounce<A extends unknown[]>(
    action: (...args: A) => Promise<void> | void,
    limit = BURST_MS,
  ): Debouncer<void, unknown, A> {
    const debouncer = new Debouncer<void, unknown, A>(action, limit);
    this._debouncers.push(debouncer);
    return debouncer;
  }

  private received(_: EventStream, event: FusionpipeEvent): void {
    this.onEvent(event);
  }

  private _disposed = false;
  private readonly _debouncers: IDisposable[] = [];
  private readonly _changed = new Signal<this, void>(this);
  private readonly _refresh: Debouncer<void, unknown, []>;
}
