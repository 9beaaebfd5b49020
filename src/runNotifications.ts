// Tells a user when a run they started has ended: a JupyterLab notification in every lab they
// have open, whether or not the pipeline's tab is, with an action that opens the run.
import { Notification } from '@jupyterlab/apputils';

import type { FusionpipeEvent } from './events';
import type { FusionpipeModel } from './model';

const ENDED = ['completed', 'failed', 'cancelled'];

export class RunNotifier {
  constructor(private readonly model: FusionpipeModel) {
    model.events.received.connect(this.onEvent, this);
  }

  dispose(): void {
    this.model.events.received.disconnect(this.onEvent, this);
  }

  private onEvent(_: unknown, event: FusionpipeEvent): void {
    if (event.event === 'run.updated' && event.run_id && ENDED.includes(event.status ?? '')) {
      void this.tell(event.run_id, event.status!, event.pipeline_id ?? null, event.requested_by);
    }
  }

  private async tell(
    runId: string,
    status: string,
    pipelineId: string | null,
    requestedBy: string | undefined,
  ): Promise<void> {
    const api = this.model.api;
    try {
      // Who fusionpipe records as this user (on a single-user server, the account running it).
      this._me ??= api.me();
      let starter = requestedBy;
      if (starter === undefined || pipelineId === null) {
        // An event without its starter: the run says who.
        const run = await api.run(runId);
        starter = run.requested_by;
        pipelineId = run.pipeline_id;
      }
      if (starter !== (await this._me)) {
        return;
      }
    } catch {
      // Not knowing who started it, say nothing rather than tell the wrong person.
      this._me = null;
      return;
    }
    const name = this.model.findPipeline(pipelineId)?.tag ?? (await this.nameOf(pipelineId));
    const message = `fusionpipe: the run ${runId} of ${name} ${status === 'cancelled' ? 'was cancelled' : status}`;
    const shown = pipelineId;
    const options = {
      autoClose: 10000,
      actions: [{ label: 'Show run', callback: () => this.model.showRuns(shown, runId) }],
    };
    if (status === 'completed') {
      Notification.success(message, options);
    } else if (status === 'failed') {
      Notification.error(message, options);
    } else {
      Notification.warning(message, options);
    }
  }

  /** The name of a pipeline the sidebar has not loaded (asked once); its id if it is gone. */
  private nameOf(pipelineId: string): Promise<string> {
    let name = this._names.get(pipelineId);
    if (!name) {
      name = this.model.api.pipeline(pipelineId).then(
        (graph) => graph.tag,
        () => pipelineId,
      );
      this._names.set(pipelineId, name);
    }
    return name;
  }

  private readonly _names = new Map<string, Promise<string>>();
  private _me: Promise<string> | null = null;
}
