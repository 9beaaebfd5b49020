// One open pipeline canvas: its graph, the nodes selected on it and its latest run, kept current
// from the live events; every change the canvas asks for goes through here.
import { Notification } from '@jupyterlab/apputils';
import { type ISignal, Signal } from '@lumino/signaling';

import type {
  GraphNode,
  Group,
  GroupBox,
  NodeKind,
  Pipeline,
  PipelineGraph,
  RunScope,
  RunWithProgress,
  Size,
  UndoDone,
  UndoStacks,
  XY,
} from './api';
import { ApiError } from './api';
import { attempt } from './attempt';
import type { FusionpipeEvent } from './events';
import { LiveModel } from './liveModel';
import type { FusionpipeModel } from './model';

export class PipelineModel extends LiveModel {
  constructor(
    readonly app: FusionpipeModel,
    readonly pipelineId: string,
  ) {
    super(app.events);
  }

  get graph(): PipelineGraph | undefined {
    return this._graph;
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

  /** Your next undo and redo here, as the server names them (see `refresh`). */
  get undoStacks(): UndoStacks {
    return this._undo;
  }

  async refresh(): Promise<void> {
    // The undo stacks come with every reload: any edit, here or in another tab, moves them.
    const [graph, stacks] = await Promise.all([
      attempt('load the pipeline', () => this.app.api.pipeline(this.pipelineId)),
      attempt('load what can be undone', () => this.app.api.undoStacks(this.pipelineId)),
    ]);
    if (graph) {
      this._graph = graph;
    }
    if (stacks) {
      this._undo = stacks;
    }
    if (graph || stacks) {
      this.emitChanged();
    }
  }

  /** Undoes your last graph edit here; the server refuses (and says why) when a colleague
   * changed the same object since, or the pipeline is locked. */
  async undo(): Promise<void> {
    if (this._undo.undo) {
      await this.step(() => this.app.api.undo(this.pipelineId));
    }
  }

  async redo(): Promise<void> {
    if (this._undo.redo) {
      await this.step(() => this.app.api.redo(this.pipelineId));
    }
  }

  private async step(action: () => Promise<UndoDone>): Promise<void> {
    try {
      await action();
    } catch (error) {
      // The server's refusal is a whole sentence: "cannot undo rename of node 'fit': node
      // 'fit' was renamed by bob since".
      const message = error instanceof ApiError ? error.message : String(error);
      Notification.warning(`${message.charAt(0).toUpperCase()}${message.slice(1)}.`, {
        autoClose: 10000,
      });
    }
    await this.refresh();
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

  /** Runs some items of a mapped node, or its failed ones; the server says what it refuses. */
  async runItems(nodeId: string, items: string[] | 'failed'): Promise<void> {
    const scope: RunScope = { items: { [nodeId]: items } };
    await this.act('start the run', () => this.app.api.startRun(this.pipelineId, scope));
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

  /** Node positions after a drag, and the boxes of the groups dragged with them: one
   * request, one edit to undo. The canvas already shows them: only the undo stacks reload. */
  async savePositions(
    positions: Record<string, XY>,
    groups: Record<string, GroupBox> = {},
  ): Promise<void> {
    await attempt('save the layout', () =>
      this.app.api.savePositions(this.pipelineId, positions, groups),
    );
    const stacks = await attempt('load what can be undone', () =>
      this.app.api.undoStacks(this.pipelineId),
    );
    if (stacks) {
      this._undo = stacks;
      this.emitChanged();
    }
  }

  /** A whole new layout: every node position and group box in one request, undone as one. */
  async autoLayout(positions: Record<string, XY>, groups: Record<string, GroupBox>): Promise<void> {
    await this.act('save the layout', () =>
      this.app.api.savePositions(this.pipelineId, positions, groups, true),
    );
  }

  protected onEvent(event: FusionpipeEvent): void {
    const mine = event.pipeline_id === this.pipelineId;
    const shown =
      event.node_id !== undefined && this._graph?.nodes.some((n) => n.id === event.node_id);
    const runId = event.run_id;
    if (runId && (mine || runId === this._latestRun?.id)) {
      void this._loadRun.invoke(runId);
    }
    if (event.event === 'node.items' && event.items && shown) {
      // Counts only: drawn at once, with no reload of the graph for each item that ends.
      this.patchNode(event.node_id!, { items: event.items });
      return;
    }
    if (event.event === 'node.status' && event.stale_reasons && shown) {
      // Show the reasons at once; the reload below brings the rest.
      this.patchNode(event.node_id!, { stale_reasons: event.stale_reasons });
    }
    if (event.event === 'resync' || mine || shown) {
      // Many events arrive together during a run: one reload for all of them.
      this.scheduleRefresh();
    }
  }

  /** Some fields of one node changed, as an event told: the graph with them, redrawn. */
  private patchNode(nodeId: string, fields: Partial<GraphNode>): void {
    if (this._graph) {
      this._graph = {
        ...this._graph,
        nodes: this._graph.nodes.map((n) => (n.id === nodeId ? { ...n, ...fields } : n)),
      };
      this.emitChanged();
    }
  }

  private async act<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    const result = await attempt(what, action);
    await this.refresh();
    return result;
  }

  private _graph: PipelineGraph | undefined;
  private _undo: UndoStacks = { undo: null, redo: null };
  private _latestRun: RunWithProgress | undefined;
  private readonly _runChanged = new Signal<this, void>(this);
  private readonly _loadRun = this.debounce((runId: string) => this.loadRun(runId));
  private _selection: readonly string[] = [];
  private readonly _selectionChanged = new Signal<this, readonly string[]>(this);
}
