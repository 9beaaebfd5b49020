// The live events websocket: one connection for the whole lab, reconnecting when it drops.
// Every change on the server (from any user) arrives as one JSON message.
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import type { FusionpipeApi, ItemCounts, StaleReason } from './api';

export interface FusionpipeEvent {
  event: string;
  pipeline_id?: string | null;
  node_id?: string;
  status?: string;
  run_id?: string;
  /** On node.status: why the node is stale; absent from older servers. */
  stale_reasons?: StaleReason[];
  /** On node.items: a mapped node's item counts, sent while its items run. */
  items?: ItemCounts;
  /** On run.updated: who started the run. */
  requested_by?: string;
}

export class EventStream {
  constructor(private readonly api: FusionpipeApi) {
    this.connect();
  }

  get received(): ISignal<this, FusionpipeEvent> {
    return this._received;
  }

  dispose(): void {
    this._disposed = true;
    this._socket?.close();
  }

  private connect(): void {
    const settings = ServerConnection.makeSettings();
    let url = this.api.eventsUrl();
    if (settings.token) {
      url += `?token=${encodeURIComponent(settings.token)}`;
    }
    this._socket = new settings.WebSocket(url);
    this._socket.onmessage = (message) => {
      this._received.emit(JSON.parse(String(message.data)) as FusionpipeEvent);
    };
    this._socket.onclose = () => {
      if (!this._disposed) {
        // Events sent while disconnected are lost: tell listeners to reload what they show.
        window.setTimeout(() => {
          this.connect();
          this._received.emit({ event: 'resync' });
        }, 2000);
      }
    };
  }

  private _socket: WebSocket | null = null;
  private _disposed = false;
  private readonly _received = new Signal<this, FusionpipeEvent>(this);
}
