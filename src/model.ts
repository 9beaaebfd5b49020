// The lab-wide state: the projects and their pipelines as the sidebar lists them, the trash,
// and the one live event connection every other model listens to. Components only read it and
// call its methods; failures are reported through JupyterLab's notifications (`attempt`).
import { ApiError, FusionpipeApi, type MetricsBy, type Pipeline, type Project } from './api';
import { attempt } from './attempt';
import { EventStream, type FusionpipeEvent } from './events';
import { LiveModel } from './liveModel';
import { TrashModel } from './trashModel';

/** How long to wait before asking again after a 503 that gave no Retry-After. */
const DEFAULT_RETRY_SECONDS = 2;

export class FusionpipeModel extends LiveModel {
  constructor(readonly api = new FusionpipeApi()) {
    super(new EventStream(api));
    this.trash = new TrashModel(this.events, api, () => this.reload());
  }

  /** The recently deleted, which the sidebar lists on demand. */
  readonly trash: TrashModel;

  /** Opens a pipeline in the lab; set by the plugin, which owns the commands. */
  openPipeline: (pipelineId: string) => void = () => undefined;

  /** Opens a pipeline's Runs view, at one run when `runId` is given; set by the plugin. */
  showRuns: (pipelineId: string, runId?: string) => void = () => undefined;

  /** Opens the Compare view of a node's results, by item or by run; set by the plugin. */
  showCompare: (nodeId: string, by: MetricsBy) => void = () => undefined;

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

  /** Whether the server answered that its database is busy or not reached yet (503): the
   * sidebar says so calmly, and the model asks again when the server said to. */
  get databaseBusy(): boolean {
    return this._retry !== null;
  }

  async refresh(): Promise<void> {
    await attempt('load the projects', async () => {
      try {
        this._projects = await this.api.listProjects();
        this.retryAfter(null);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 503)) {
          throw error;
        }
        this.retryAfter(error.retryAfter ?? DEFAULT_RETRY_SECONDS);
      }
    });
    // Pipelines of a project that is gone would still be found by the search.
    const known = new Set(this._projects.map((p) => p.id));
    for (const projectId of this._pipelines.keys()) {
      if (!known.has(projectId)) {
        this._pipelines.delete(projectId);
      }
    }
    this.emitChanged();
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
    this.emitChanged();
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
      this.emitChanged();
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
      this.emitChanged();
    }
    return done ?? false;
  }

  async loadPipelines(projectId: string): Promise<void> {
    const pipelines = await attempt('load the pipelines', () => this.api.listPipelines(projectId));
    if (pipelines) {
      this._pipelines.set(projectId, pipelines);
    }
    this.emitChanged();
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
    this.emitChanged();
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

  /** Projects and pipelines made, changed or deleted by anyone show up at once. */
  protected onEvent(event: FusionpipeEvent): void {
    if (event.event.startsWith('project.') || event.event === 'resync') {
      this.scheduleRefresh();
    }
    if (['pipeline.created', 'pipeline.updated', 'pipeline.deleted'].includes(event.event)) {
      // A merge or a cascade delete sends several events at once: one reload for all of them.
      void this._reloadPipelines.invoke();
    }
  }

  dispose(): void {
    this.retryAfter(null);
    this.trash.dispose();
    super.dispose();
  }

  /** Reload everything in `seconds` (null: no more). */
  private retryAfter(seconds: number | null): void {
    if (this._retry !== null) {
      clearTimeout(this._retry);
    }
    this._retry = seconds === null ? null : setTimeout(() => void this.reload(), seconds * 1000);
  }

  private _projects: Project[] = [];
  private _retry: ReturnType<typeof setTimeout> | null = null;
  private _loadingAll: Promise<void> | null = null;
  private readonly _pipelines = new Map<string, Pipeline[]>();
  private readonly _reloadPipelines = this.debounce(() =>
    this.reloadProjects([...this._pipelines.keys()]),
  );
}
