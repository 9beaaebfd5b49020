// The inspector's state: the node selected on one pipeline's canvas, its parameters, runs and
// log, and every server call the inspector makes. Failures become notifications (`attempt`);
// an invalid parameters file is kept as an inline message because the user must fix it there.
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { type ISessionContext, Notification } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import type { Contents } from '@jupyterlab/services';

import { ApiError, type NodeDetails, type NodeLog, type OutputListing, type Run } from './api';
import { attempt } from './attempt';
import type { FusionpipeEvent } from './events';
import { ItemsModel } from './itemsModel';
import { LiveModel, RUN_BURST_MS } from './liveModel';
import type { PipelineModel } from './pipelineModel';

/** How many lines of a log the inspector shows. */
export const LOG_TAIL = 200;

function emptyNotebook(kernel: string, displayName: string): Partial<Contents.IModel> {
  return {
    type: 'notebook',
    format: 'json',
    content: {
      cells: [],
      metadata: { kernelspec: { name: kernel, display_name: displayName, language: 'python' } },
      nbformat: 4,
      nbformat_minor: 5,
    },
  };
}

export class NodeModel extends LiveModel {
  constructor(
    readonly pipeline: PipelineModel,
    readonly app?: JupyterFrontEnd,
  ) {
    super(pipeline.events, RUN_BURST_MS);
    pipeline.selectionChanged.connect(this.onSelection, this);
    pipeline.changed.connect(this.followItems, this);
  }

  /** The ids of the nodes selected on the canvas. */
  get selection(): readonly string[] {
    return this.pipeline.selection;
  }

  /** The one selected node, once loaded. */
  get node(): NodeDetails | undefined {
    return this._node;
  }

  get parameters(): string {
    return this._parameters;
  }

  /** The server's message about the parameters last saved, when they were refused. */
  get parametersError(): string | null {
    return this._parametersError;
  }

  /** The items of the selected node while it is mapped (the graph counts them). */
  get items(): ItemsModel | null {
    return this._items;
  }

  get runs(): readonly Run[] {
    return this._runs;
  }

  get log(): NodeLog | undefined {
    return this._log;
  }

  /** The run whose log is shown; null for the latest run, which is then followed live. */
  get shownRun(): string | null {
    return this._shownRun;
  }

  /** Whether the Outputs section is open: its listing is only loaded while it is. */
  get outputsOpen(): boolean {
    return this._outputsOpen;
  }

  /** What the selected node's data/ and reports/ hold, while the Outputs section is open. */
  get outputs(): OutputListing | undefined {
    return this._outputs;
  }

  async setOutputsOpen(open: boolean): Promise<void> {
    this._outputsOpen = open;
    this.emitChanged();
    if (open) {
      await this.loadOutputs();
    }
  }

  async loadOutputs(): Promise<void> {
    const node = this._node;
    if (!node || !this._outputsOpen) {
      return;
    }
    const listing = await attempt('list the outputs', () => this.pipeline.app.api.outputs(node.id));
    if (listing && this._node?.id === listing.node_id) {
      this._outputs = listing;
      this.emitChanged();
    }
  }

  /** An output file of the selected node, for a thumbnail. */
  outputBlob(path: string): Promise<Blob> {
    return this.pipeline.app.api.outputBlob(this._node!.id, path);
  }

  /** The first lines of a text output of the selected node. */
  outputHead(path: string, lines: number): Promise<string> {
    return this.pipeline.app.api.outputHead(this._node!.id, path, lines);
  }

  /** Open an output (an HTML or notebook report) in the lab, from the node's folder. */
  async openOutput(path: string): Promise<void> {
    const base = this._node?.lab_path;
    const app = this.app;
    if (app && base != null) {
      await attempt('open the report', () =>
        app.commands.execute('docmanager:open', { path: `${base}/${path}` }),
      );
    }
  }

  /** JupyterLab's code editors, so the parameters get the user's editor; null without the lab. */
  async editorServices(): Promise<IEditorServices | null> {
    return this.app ? this.app.resolveOptionalService(IEditorServices) : null;
  }

  /** Load everything about the selected node (nothing when zero or several are selected). */
  async load(): Promise<void> {
    const generation = ++this._generation;
    const [nodeId] = this.selection;
    this._node = undefined;
    this._parameters = '';
    this._parametersError = null;
    this._runs = [];
    this._log = undefined;
    this._shownRun = null;
    this._outputs = undefined;
    this.followItems();
    this.emitChanged();
    if (this.selection.length !== 1) {
      return;
    }
    const api = this.pipeline.app.api;
    const loaded = await attempt('load the node', () =>
      Promise.all([api.node(nodeId), api.parameters(nodeId)]),
    );
    // The selection may have moved on while this was loading.
    if (loaded && generation === this._generation) {
      [this._node, this._parameters] = loaded;
      this.emitChanged();
      await Promise.all([this.refresh(), this.loadOutputs()]);
    }
  }

  /** Reload the node's details, runs and log (not the parameters, which may be being edited). */
  async refresh(): Promise<void> {
    const node = this._node;
    if (!node) {
      return;
    }
    const generation = this._generation;
    const api = this.pipeline.app.api;
    try {
      const loaded = await Promise.all([
        api.node(node.id),
        api.nodeRuns(node.id),
        api.log(node.id, { runId: this._shownRun ?? undefined, tail: LOG_TAIL }),
      ]);
      this._reloadFailure = null;
      if (generation === this._generation) {
        [this._node, this._runs, this._log] = loaded;
        this.emitChanged();
        if (loaded[0].status !== node.status) {
          // Run, cleared or reset: what data/ and reports/ hold has changed.
          void this.loadOutputs();
        }
      }
    } catch (error) {
      // A node deleted while shown is gone from the canvas too: nothing to report. The log of a
      // running node is reloaded every second: say what went wrong once, not every second.
      const failure = String(error);
      if (!(error instanceof ApiError && error.status === 404) && failure !== this._reloadFailure) {
        this._reloadFailure = failure;
        await attempt('load the node', () => Promise.reject(error));
      }
    }
  }

  /** Show the log of one run, or of the latest run with `null`. */
  async showRun(runId: string | null): Promise<void> {
    this._shownRun = runId;
    await this.refresh();
  }

  async rename(tag: string): Promise<void> {
    await this.update('rename the node', { tag });
  }

  async saveNotes(notes: string): Promise<void> {
    await this.update('save the notes', { notes });
  }

  async setLocked(locked: boolean): Promise<void> {
    await this.update(locked ? 'lock the node' : 'unlock the node', { locked });
  }

  /** Save the parameters; when the server refuses them, its reason is `parametersError`. */
  async saveParameters(content: string): Promise<void> {
    const node = this._node;
    if (!node) {
      return;
    }
    try {
      await this.pipeline.app.api.saveParameters(node.id, content);
      this._parameters = content;
      this._parametersError = null;
    } catch (error) {
      // A 400 is the user's YAML: say where, beside the editor. Anything else is a failure.
      if (error instanceof ApiError && error.status === 400) {
        this._parametersError = error.message;
      } else {
        await attempt('save the parameters', () => Promise.reject(error));
      }
    }
    this.emitChanged();
  }

  async copyPath(): Promise<void> {
    const folder = this._node?.folder;
    if (folder) {
      const copied = await attempt('copy the path', async () => {
        await navigator.clipboard.writeText(folder);
        return true;
      });
      if (copied) {
        Notification.success('Copied the folder path', { autoClose: 3000 });
      }
    }
  }

  async openFolder(): Promise<void> {
    const path = this._node?.lab_path;
    const app = this.app;
    if (app && path != null) {
      await attempt('open the folder', () =>
        app.commands.execute('filebrowser:go-to-path', { path: `${path}/code` }),
      );
    }
  }

  /**
   * Open the node's notebook on the node's kernel: `code/main.ipynb` of a notebook node, else
   * `notebooks/analysis.ipynb`, created empty the first time. Exploratory notebooks live outside
   * `code/`, so they are not part of the node's code: editing one does not make it stale.
   */
  async openNotebook(): Promise<void> {
    const node = this._node;
    const app = this.app;
    if (!app || !node || node.lab_path === null) {
      return;
    }
    const folder = node.lab_path;
    await attempt('open the notebook', async () => {
      const contents = app.serviceManager.contents;
      const exists = (path: string) =>
        contents.get(path, { content: false }).then(
          () => true,
          () => false,
        );
      // The lab lists the kernels it has seen; a node made since then has one it does not know.
      const specs = app.serviceManager.kernelspecs;
      if (!specs.specs?.kernelspecs[node.kernel]) {
        await specs.refreshSpecs();
      }
      const main = `${folder}/code/main.ipynb`;
      const path =
        node.kind === 'notebook' && (await exists(main))
          ? main
          : `${folder}/notebooks/analysis.ipynb`;
      if (!(await exists(`${folder}/notebooks`)) && path !== main) {
        await contents.save(`${folder}/notebooks`, { type: 'directory' });
      }
      if (!(await exists(path))) {
        const spec = specs.specs?.kernelspecs[node.kernel];
        await contents.save(path, emptyNotebook(node.kernel, spec?.display_name ?? node.kernel));
      }
      const widget = (await app.commands.execute('docmanager:open', {
        path,
        factory: 'Notebook',
        kernel: { name: node.kernel },
      })) as { context: { sessionContext: ISessionContext } } | undefined;
      // A notebook whose metadata names another kernel (the template says python3) starts on
      // that one: move it to the node's.
      const session = widget?.context.sessionContext;
      await session?.ready;
      if (session && session.session?.kernel?.name !== node.kernel) {
        await session.changeKernel({ name: node.kernel });
      }
    });
  }

  dispose(): void {
    this.pipeline.selectionChanged.disconnect(this.onSelection, this);
    this.pipeline.changed.disconnect(this.followItems, this);
    this._items?.dispose();
    super.dispose();
  }

  /** An items model for the one selected node while the graph says it is mapped (saving its
   * parameters may map it, or unmap it), none otherwise. */
  private followItems(): void {
    const [nodeId] = this.selection;
    const node = this.pipeline.graph?.nodes.find((found) => found.id === nodeId);
    const mapped = this.selection.length === 1 && Boolean(node?.items);
    if (mapped ? this._items?.nodeId === nodeId : this._items === null) {
      return;
    }
    this._items?.dispose();
    this._items = mapped ? new ItemsModel(this.pipeline, nodeId) : null;
    this.emitChanged();
  }

  private async update(
    what: string,
    fields: { tag?: string; notes?: string; locked?: boolean },
  ): Promise<void> {
    const node = this._node;
    if (!node) {
      return;
    }
    const api = this.pipeline.app.api;
    const updated = await attempt(what, () =>
      api.updateNode(this.pipeline.pipelineId, node.id, fields),
    );
    if (updated && this._node?.id === node.id) {
      this._node = { ...this._node, ...updated };
    }
    this.emitChanged();
  }

  private onSelection(): void {
    void this.load();
  }

  protected onEvent(event: FusionpipeEvent): void {
    const node = this._node;
    // Item counts are the Items section's (its own model): the node's status comes on its own.
    const concerned =
      event.event === 'resync' ||
      (event.event !== 'node.items' &&
        (event.node_id === node?.id || event.pipeline_id === this.pipeline.pipelineId));
    if (node && concerned) {
      this.scheduleRefresh();
    }
    if (node && event.event === 'node.status' && event.node_id === node.id) {
      // Its outputs change when it has run (or been cleared), not while it runs.
      void this._loadOutputs.invoke();
    }
  }

  private _node: NodeDetails | undefined;
  private _parameters = '';
  private _parametersError: string | null = null;
  private _runs: readonly Run[] = [];
  private _log: NodeLog | undefined;
  private _shownRun: string | null = null;
  private _generation = 0;
  private _reloadFailure: string | null = null;
  private _outputsOpen = false;
  private _items: ItemsModel | null = null;
  private _outputs: OutputListing | undefined;
  private readonly _loadOutputs = this.debounce(() => this.loadOutputs(), RUN_BURST_MS);
}
