// Tells a user when a run they started has ended: a JupyterLab notification in every lab they
// have open, whether or not the pipeline's tab is, with an action that opens the run.
import { Notification } from '@jupyterlab/apputils';

import type { FusionpipeEvent } from './events';
import type { FusionpipeModel } from './model';

const ENDED = ['completed', 'failed', 'cancelled'];
// How long a run's toast shows; a later run of the pipeline ending meanwhile joins it.
const SHOWN_MS = 10000;
// The toast of several runs takes the colour of the worst of them.
const SEVERITY = ['completed', 'cancelled', 'failed'];
const TYPES: Record<string, 'success' | 'warning' | 'error'> = {
  completed: 'success',
  cancelled: 'warning',
  failed: 'error',
};

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
    const said = status === 'cancelled' ? 'was cancelled' : status;
    // Runs of one pipeline that end while its toast still shows share that toast: a script
    // that starts a hundred runs gets one notification that counts them, not a hundred.
    const now = Date.now();
    const previous = this._toasts.get(pipelineId);
    const group =
      previous && now - previous.shownAt < SHOWN_MS
        ? previous
        : { id: '', shownAt: now, ended: 0, failed: 0, worst: status };
    let message = `fusionpipe: the run ${runId} of ${name} ${said}`;
    if (group.ended > 0) {
      const runs = group.ended === 1 ? 'run' : 'runs';
      const failed = group.failed ? `, ${group.failed} failed` : '';
      message += ` (and ${group.ended} earlier ${runs} ended${failed})`;
    }
    group.ended += 1;
    group.failed += status === 'failed' ? 1 : 0;
    if (SEVERITY.indexOf(status) > SEVERITY.indexOf(group.worst)) {
      group.worst = status;
    }
    const shown = pipelineId;
    const options = {
      autoClose: SHOWN_MS,
      actions: [{ label: 'Show run', callback: () => this.model.showRuns(shown, runId) }],
    };
    const type = TYPES[group.worst] ?? 'warning';
    if (!group.id || !Notification.update({ id: group.id, message, type, ...options })) {
      group.id = Notification.emit(message, type, options);
    }
    group.shownAt = now;
    this._toasts.set(pipelineId, group);
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
  private readonly _toasts = new Map<
    string,
    { id: string; shownAt: number; ended: number; failed: number; worst: string }
  >();
  private _me: Promise<string> | null = null;
}
