// One project's lineage graph (its pipelines and how each was derived from another), kept current
// from the live events that change which pipelines exist or how they are named and related.
import { ApiError, type ProjectGraph } from './api';
import { attempt } from './attempt';
import type { FusionpipeEvent } from './events';
import { LiveModel } from './liveModel';
import type { FusionpipeModel } from './model';

export class LineageModel extends LiveModel {
  constructor(
    readonly app: FusionpipeModel,
    readonly projectId: string,
  ) {
    super(app.events);
  }

  /** The graph as last loaded: undefined until then, null once the project no longer exists
   * (which is no error to report: a lineage tab may outlive its project). */
  get graph(): ProjectGraph | null | undefined {
    return this._graph;
  }

  async refresh(): Promise<void> {
    const graph = await attempt('load the lineage graph', async () => {
      try {
        return await this.app.api.projectGraph(this.projectId);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          return null;
        }
        throw error;
      }
    });
    // A failure has been reported: what is shown stays.
    if (graph !== undefined) {
      this._graph = graph;
      this.emitChanged();
    }
  }

  protected onEvent(event: FusionpipeEvent): void {
    // Only these change which pipelines exist or how they are named, locked or related: node
    // edits (pipeline.changed) and drags (pipeline.layout) leave the lineage as it is.
    const relevant =
      ['pipeline.created', 'pipeline.updated', 'pipeline.deleted', 'resync'].includes(
        event.event,
      ) || event.event.startsWith('project.');
    if (relevant) {
      // A merge or a cascade delete sends several events at once: one reload for all of them.
      this.scheduleRefresh();
    }
  }

  private _graph: ProjectGraph | null | undefined;
}
