// State of the fusionpipe panels and every server call they make; components only read it and
// call its methods. Failures are reported through JupyterLab's notifications.
import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ApiError,
  FusionpipeApi,
  type Group,
  type NodeKind,
  type Pipeline,
  type PipelineGraph,
  type Project,
  type RunWithProgress,
  type Size,
  type TrashItem,
  type XY,
} from './api';
import { EventStream, type FusionpipeEvent } from './events';

/** What the server could do only in part (such as files of other users that a lock could not
 * make read-only) comes as `warnings` in its answer: shown, never hidden. */
function showWarnings(answer: unknown): void {
  if (Array.isArray(answer)) {
    answer.forEach(showWarnings);
    return;
  }
  const warnings = (answer as { warnings?: unknown } | null | undefined)?.warnings;
  if (Array.isArray(warnings)) {
    for (const warning of warnings) {
      Notification.warning(String(warning), { autoClose: false });
    }
  }
}

export async function attempt<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
  try {
    const answer = await action();
    showWarnings(answer);
    return answer;
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    Notification.error(`fusionpipe could not ${what}: ${message}`, { autoClose: 8000 });
    return undefined;
  }
}

export class FusionpipeModel {
  constructor(readonly api = new FusionpipeApi()) {
    this.events = new EventStream(api);
    this.events.received.connect(this.onEvent, this);
  }

  readonly events: EventStream;

  /** Opens a pipeline in the lab; set by the plugin, which owns the commands. */
  openPipeline: (pipelineId: string) => void = () => undefined;

  /** Opens a pipeline's Runs view, at one run when `runId` is given; set by the plugin. */
  showRuns: (pipelineId: string, runId?: string) => void = () => undefined;

  get projects(): readonly Project[] {
    return this._projects;
  }

  pipelinesOf(projectId: string): readonly Pipeline[] | undefined {
    return this._pipelines.get(projectId);
  }

  /** Every pipeline loaded so far, whatever its project. */
  get pipelines(): readonly Pipeline[] {
    return [...this._pipelines.values()].flat();
  }

  /** Emitted whenever what the sidebar shows has changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    await attempt('load the projects', async () => {
      this._projects = await this.api.listProjects();
    });
    // Pipelines of a project that is gone would still be found by the search.
    const known = new Set(this._projects.map((p) => p.id));
    for (const projectId of this._pipelines.keys()) {
      if (!known.has(projectId)) {
        this._pipelines.delete(projectId);
      }
    }
    this._changed.emit();
  }

  /** The projects, and the pipelines of every project loaded so far, afresh from the server. */
  async reload(): Promise<void> {
    await this.refresh();
    await this.reloadProjects([...this._pipelines.keys()]);
  }

  async createProject(tag: string): Promise<Project | undefined> {
    const project = await attempt('create the project', () =>
      this.api.createProject(tag.trim() ? { tag: tag.trim() } : {}),
    );
    if (project) {
      this._projects = [...this._projects, project];
    }
    this._changed.emit();
    return project;
  }

  async updateProject(
    projectId: string,
    fields: { tag?: string; notes?: string },
  ): Promise<Project | undefined> {
    const project = await attempt('change the project', () =>
      this.api.updateProject(projectId, fields),
    );
    if (project) {
      this._projects = this._projects.map((p) => (p.id === projectId ? project : p));
      this._changed.emit();
    }
    return project;
  }

  /** `cascade` deletes the project's pipelines too; without it the server refuses a non-empty one. */
  async deleteProject(projectId: string, cascade: boolean): Promise<boolean> {
    const done = await attempt('delete the project', async () => {
      await this.api.deleteProject(projectId, cascade);
      return true;
    });
    if (done) {
      this._projects = this._projects.filter((p) => p.id !== projectId);
      this._pipelines.delete(projectId);
      this._changed.emit();
    }
    return done ?? false;
  }

  /**
   * The project's pipelines and the lineage edges between them; null when the project no longer
   * exists, which is no error to report: a lineage tab may outlive its project.
   */
  projectGraph(projectId: string) {
    return attempt('load the lineage graph', async () => {
      try {
        return await this.api.projectGraph(projectId);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          return null;
        }
        throw error;
      }
    });
  }

  async loadPipelines(projectId: string): Promise<void> {
    const pipelines = await attempt('load the pipelines', () => this.api.listPipelines(projectId));
    if (pipelines) {
      this._pipelines.set(projectId, pipelines);
    }
    this._changed.emit();
  }

  /** One request per project whose pipelines are not loaded yet, so a search can find them. */
  loadAllPipelines(): Promise<void> {
    // Asked again while loading (a search typed fast): wait for the same requests.
    this._loadingAll ??= (async () => {
      const missing = this._projects.filter((p) => !this._pipelines.has(p.id));
      await Promise.all(missing.map((p) => this.loadPipelines(p.id)));
      this._loadingAll = null;
    })();
    return this._loadingAll;
  }

  findPipeline(pipelineId: string): Pipeline | undefined {
    return this.pipelines.find((p) => p.id === pipelineId);
  }

  async createPipeline(projectId: string, tag: string): Promise<Pipeline | undefined> {
    const pipeline = await attempt('create the pipeline', () =>
      this.api.createPipeline(projectId, tag.trim() || undefined),
    );
    if (pipeline) {
      this._pipelines.set(projectId, [...(this._pipelines.get(projectId) ?? []), pipeline]);
    }
    this._changed.emit();
    return pipeline;
  }

  /** The example pipeline, in a project of its own: listed at once and opened. */
  async createExample(): Promise<Pipeline | undefined> {
    const pipeline = await attempt('create the example pipeline', () => this.api.createExample());
    if (pipeline) {
      await this.refresh();
      await this.loadPipelines(pipeline.project_id);
      this.openPipeline(pipeline.id);
    }
    return pipeline;
  }

  /** Rename, change notes, move to another project, lock or unlock. */
  async updatePipeline(
    pipeline: Pipeline,
    fields: { tag?: string; notes?: string; project_id?: string; locked?: boolean },
  ): Promise<Pipeline | undefined> {
    const updated = await attempt('change the pipeline', () =>
      this.api.updatePipeline(pipeline.id, fields),
    );
    if (updated) {
      await this.reloadProjects([pipeline.project_id, updated.project_id]);
    }
    return updated;
  }

  async deletePipeline(pipeline: Pipeline): Promise<boolean> {
    const done = await attempt('delete the pipeline', async () => {
      await this.api.deletePipeline(pipeline.id);
      return true;
    });
    if (done) {
      await this.reloadProjects([pipeline.project_id]);
    }
    return done ?? false;
  }

  async duplicatePipeline(pipeline: Pipeline, withData: boolean): Promise<Pipeline | undefined> {
    const copy = await attempt('duplicate the pipeline', () =>
      this.api.duplicatePipeline(pipeline.id, withData),
    );
    if (copy) {
      await this.reloadProjects([copy.project_id]);
    }
    return copy;
  }

  async mergePipelines(pipelines: readonly Pipeline[]): Promise<Pipeline | undefined> {
    const merged = await attempt('merge the pipelines', () =>
      this.api.mergePipelines(pipelines.map((p) => p.id)),
    );
    if (merged) {
      await this.reloadProjects([merged.project_id]);
    }
    return merged;
  }

  /** The pipeline's export (a zip) and its file name; undefined when the server refused. */
  exportPipeline(pipeline: Pipeline): Promise<{ name: string; zip: Blob } | undefined> {
    return attempt('export the pipeline', () => this.api.exportPipeline(pipeline.id));
  }

  async importPipeline(projectId: string, zip: Blob): Promise<Pipeline | undefined> {
    const pipeline = await attempt('import the pipeline', () =>
      this.api.importPipeline(projectId, zip),
    );
    if (pipeline) {
      await this.loadPipelines(projectId);
    }
    return pipeline;
  }

  private async reloadProjects(projectIds: string[]): Promise<void> {
    await Promise.all([...new Set(projectIds)].map((id) => this.loadPipelines(id)));
  }

  /** What you may restore from the trash, newest first, as last loaded by `loadTrash`. */
  get trash(): readonly TrashItem[] {
    return this._trash;
  }

  /** Loads the trash, and keeps it current from then on (until `forgetTrash`). */
  async loadTrash(): Promise<void> {
    this._trashShown = true;
    const items = await attempt('list the recently deleted', () => this.api.listTrash());
    if (items) {
      this._trash = items;
      this._changed.emit();
    }
  }

  /** The list is no longer shown: stop reloading it on every deletion. */
  forgetTrash(): void {
    this._trashShown = false;
  }

  /** Puts a deleted project, pipeline or node back; the server says why when it cannot. */
  async restore(item: TrashItem): Promise<boolean> {
    const done = await attempt(`restore "${item.tag}"`, async () => {
      await this.api.restoreTrash(item.id);
      return true;
    });
    if (done) {
      Notification.success(`Restored ${item.kind} "${item.tag}".`, { autoClose: 5000 });
      await this.reload();
      await this.loadTrash();
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
      await this.loadTrash();
    }
    return done ?? false;
  }

  /** Projects and pipelines made, changed or deleted by anyone show up at once. */
  private onEvent(_: EventStream, event: FusionpipeEvent): void {
    if (event.event.startsWith('project.') || event.event === 'resync') {
      void this.refresh();
    }
    if ((event.event === 'trash.changed' || event.event === 'resync') && this._trashShown) {
      window.clearTimeout(this._pendingTrash);
      this._pendingTrash = window.setTimeout(() => void this.loadTrash(), 50);
    }
    if (['pipeline.created', 'pipeline.updated', 'pipeline.deleted'].includes(event.event)) {
      // A merge or a cascade delete sends several events at once: one reload for all of them.
      window.clearTimeout(this._pending);
      this._pending = window.setTimeout(
        () => void this.reloadProjects([...this._pipelines.keys()]),
        50,
      );
    }
  }

  private _projects: Project[] = [];
  private _trash: TrashItem[] = [];
  private _trashShown = false;
  private _pendingTrash = 0;
  private _pending = 0;
  private _loadingAll: Promise<void> | null = null;
  private readonly _pipelines = new Map<string, Pipeline[]>();
  private readonly _changed = new Signal<this, void>(this);
}

/** One open pipeline canvas: its graph, kept current from the live events. */
export class PipelineModel {
  constructor(
    readonly app: FusionpipeModel,
    readonly pipelineId: string,
  ) {
    app.events.received.connect(this.onEvent, this);
  }

  get graph(): PipelineGraph | undefined {
    return this._graph;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The ids of the nodes selected on the canvas, in the order they were selected. */
  get selection(): readonly string[] {
    return this._selection;
  }

  get selectionChanged(): ISignal<this, readonly string[]> {
    return this._selectionChanged;
  }

  select(nodeIds: readonly string[]): void {
    const same =
      nodeIds.length === this._selection.length &&
      nodeIds.every((id, index) => id === this._selection[index]);
    if (!same) {
      this._selection = [...nodeIds];
      this._selectionChanged.emit(this._selection);
    }
  }

  /** The pipeline's latest run and its progress, once `followRuns` has loaded it. */
  get latestRun(): RunWithProgress | undefined {
    return this._latestRun;
  }

  /** Emitted when the latest run, or its progress, has changed. */
  get runChanged(): ISignal<this, void> {
    return this._runChanged;
  }

  /** Load the latest run; the live events keep it current from then on. */
  async followRuns(): Promise<void> {
    const [latest] = (await attempt('load the runs', () =>
      this.app.api.pipelineRuns(this.pipelineId, 1),
    )) ?? [undefined];
    if (latest) {
      await this.loadRun(latest.id);
    }
  }

  private async loadRun(runId: string): Promise<void> {
    const run = await attempt('load the run', () => this.app.api.run(runId));
    const current = this._latestRun;
    // Events of an older run may arrive after a newer one started: keep the newest.
    if (run && (!current || current.id === run.id || run.created_at >= current.created_at)) {
      this._latestRun = run;
      this._runChanged.emit();
    }
  }

  async refresh(): Promise<void> {
    const graph = await attempt('load the pipeline', () => this.app.api.pipeline(this.pipelineId));
    if (graph) {
      this._graph = graph;
      this._changed.emit();
    }
  }

  // Every action below waits for the server, then reloads the graph: the live event would
  // redraw it too, but a user should see the outcome of their own click at once. A refusal
  // is shown as a notification by `attempt()` and leaves the canvas as the server has it.

  async run(): Promise<void> {
    await this.act('start the run', () => this.app.api.startRun(this.pipelineId));
  }

  async runNodes(nodeIds: readonly string[]): Promise<void> {
    await this.act('start the run', () =>
      this.app.api.startRun(this.pipelineId, { node_ids: [...nodeIds] }),
    );
  }

  async runUntil(nodeId: string): Promise<void> {
    await this.act('start the run', () =>
      this.app.api.startRun(this.pipelineId, { until: nodeId }),
    );
  }

  /** Cancels the pipeline's latest run; says so when there is none left to cancel. */
  async cancelLatestRun(): Promise<void> {
    await this.act('cancel the run', async () => {
      const [latest] = await this.app.api.pipelineRuns(this.pipelineId, 1);
      if (!latest || !['queued', 'running'].includes(latest.status)) {
        Notification.info('No run of this pipeline is queued or running.', { autoClose: 4000 });
        return;
      }
      await this.app.api.cancelRun(latest.id);
    });
  }

  async kill(nodeIds: readonly string[]): Promise<void> {
    await this.act('kill the node', () =>
      Promise.all(nodeIds.map((id) => this.app.api.killNode(this.pipelineId, id))),
    );
  }

  async addNode(kind: NodeKind, position: XY): Promise<void> {
    await this.act('add the node', () =>
      this.app.api.createNode(this.pipelineId, { kind, position }),
    );
  }

  async connect(source: string, target: string): Promise<void> {
    await this.act('connect the nodes', () =>
      this.app.api.connect(this.pipelineId, source, target),
    );
  }

  async deleteEdges(edgeIds: readonly string[]): Promise<void> {
    await this.act('delete the edge', () =>
      Promise.all(edgeIds.map((id) => this.app.api.deleteEdge(this.pipelineId, id))),
    );
  }

  async deleteNodes(nodeIds: readonly string[]): Promise<void> {
    // One at a time: a failure names the node and the ones before it are gone as the user asked.
    await this.act('delete the node', async () => {
      for (const id of nodeIds) {
        await this.app.api.deleteNode(this.pipelineId, id);
      }
    });
    this.select(this._selection.filter((id) => !nodeIds.includes(id)));
  }

  async renameNode(nodeId: string, tag: string): Promise<void> {
    await this.act('rename the node', () =>
      this.app.api.updateNode(this.pipelineId, nodeId, { tag }),
    );
  }

  async setLocked(nodeIds: readonly string[], locked: boolean): Promise<void> {
    await this.act(locked ? 'lock the node' : 'unlock the node', () =>
      Promise.all(nodeIds.map((id) => this.app.api.updateNode(this.pipelineId, id, { locked }))),
    );
  }

  async setStatus(nodeIds: readonly string[], status: 'completed' | 'staledata'): Promise<void> {
    await this.act('set the status', () =>
      this.app.api.setStatus(this.pipelineId, [...nodeIds], status),
    );
  }

  async clearOutputs(nodeIds: readonly string[]): Promise<void> {
    await this.act('clear the outputs', () =>
      this.app.api.clearOutputs(this.pipelineId, [...nodeIds]),
    );
  }

  /** Whether the copies were made. */
  async duplicate(nodeIds: readonly string[], targetId: string, withData: boolean) {
    const copied = await this.act('duplicate the nodes', () =>
      this.app.api.duplicateNodes(this.pipelineId, [...nodeIds], targetId, withData),
    );
    return copied !== undefined;
  }

  /** Whether the nodes were shared with the target. */
  async reference(nodeIds: readonly string[], targetId: string): Promise<boolean> {
    const shared = await this.act('reference the nodes', async () => {
      await this.app.api.referenceNodes(this.pipelineId, [...nodeIds], targetId);
      return true;
    });
    return shared ?? false;
  }

  async detach(nodeId: string): Promise<void> {
    await this.act('detach the node', () => this.app.api.detach(this.pipelineId, nodeId));
  }

  async branch(nodeId: string): Promise<Pipeline | undefined> {
    return this.act('branch the pipeline', () =>
      this.app.api.branchPipeline(this.pipelineId, nodeId),
    );
  }

  /** The other pipelines of this pipeline's project: targets of duplicate and reference. */
  async otherPipelines(): Promise<Pipeline[]> {
    const projectId = this._graph?.project_id;
    if (!projectId) {
      return [];
    }
    const all = await attempt('list the pipelines', () => this.app.api.listPipelines(projectId));
    return (all ?? []).filter((pipeline) => pipeline.id !== this.pipelineId);
  }

  async createGroup(nodeIds: readonly string[], tag: string, box: XY & Size): Promise<void> {
    const { x, y, width, height } = box;
    await this.act('group the nodes', () =>
      this.app.api.createGroup(this.pipelineId, {
        node_ids: [...nodeIds],
        tag,
        position: { x, y },
        size: { width, height },
      }),
    );
  }

  async updateGroup(
    groupId: string,
    fields: { tag?: string; collapsed?: boolean; position?: XY; size?: Size },
  ): Promise<Group | undefined> {
    return this.act('change the group', () => this.app.api.updateGroup(groupId, fields));
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.act('delete the group', () => this.app.api.deleteGroup(groupId));
  }

  async savePositions(positions: Record<string, XY>): Promise<void> {
    await attempt('save the layout', () => this.app.api.savePositions(this.pipelineId, positions));
  }

  /** A whole new layout: every node position in one request, then the groups' boxes. */
  async saveLayout(
    positions: Record<string, XY>,
    groups: Record<string, { position: XY; size?: Size }>,
  ): Promise<void> {
    await this.act('save the layout', async () => {
      await this.app.api.savePositions(this.pipelineId, positions);
      await Promise.all(
        Object.entries(groups).map(([id, box]) => this.app.api.updateGroup(id, box)),
      );
    });
  }

  dispose(): void {
    window.clearTimeout(this._pendingRun);
    this.app.events.received.disconnect(this.onEvent, this);
  }

  private onEvent(_: EventStream, event: FusionpipeEvent): void {
    const mine = event.pipeline_id === this.pipelineId;
    const shown =
      event.node_id !== undefined && this._graph?.nodes.some((n) => n.id === event.node_id);
    const runId = event.run_id;
    if (runId && (mine || runId === this._latestRun?.id)) {
      window.clearTimeout(this._pendingRun);
      this._pendingRun = window.setTimeout(() => void this.loadRun(runId), 50);
    }
    if (event.event === 'node.status' && event.stale_reasons && this._graph && shown) {
      // Show the reasons at once; the reload below brings the rest.
      const reasons = event.stale_reasons;
      this._graph = {
        ...this._graph,
        nodes: this._graph.nodes.map((n) =>
          n.id === event.node_id ? { ...n, stale_reasons: reasons } : n,
        ),
      };
      this._changed.emit();
    }
    if (event.event === 'resync' || mine || shown) {
      // Many events arrive together during a run: one reload for all of them.
      window.clearTimeout(this._pending);
      this._pending = window.setTimeout(() => void this.refresh(), 50);
    }
  }

  private async act<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    const result = await attempt(what, action);
    await this.refresh();
    return result;
  }

  private _graph: PipelineGraph | undefined;
  private _latestRun: RunWithProgress | undefined;
  private _pendingRun = 0;
  private readonly _runChanged = new Signal<this, void>(this);
  private _pending = 0;
  private _selection: readonly string[] = [];
  private readonly _changed = new Signal<this, void>(this);
  private readonly _selectionChanged = new Signal<this, readonly string[]>(this);
}
