// State of the fusionpipe panel and every server call it makes; components only read it and
// call its methods. Failures are reported through JupyterLab's notifications.
import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, FusionpipeApi, type Project } from './api';

export class FusionpipeModel {
  constructor(readonly api = new FusionpipeApi()) {}

  get projects(): readonly Project[] {
    return this._projects;
  }

  /** Emitted whenever what the panel shows has changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    await this.attempt('load the projects', async () => {
      this._projects = await this.api.listProjects();
    });
  }

  async createProject(tag: string): Promise<Project | undefined> {
    return this.attempt('create the project', async () => {
      const project = await this.api.createProject(tag.trim() ? { tag: tag.trim() } : {});
      this._projects = [...this._projects, project];
      return project;
    });
  }

  private async attempt<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      Notification.error(`fusionpipe could not ${what}: ${message}`, { autoClose: 8000 });
      return undefined;
    } finally {
      this._changed.emit();
    }
  }

  private _projects: Project[] = [];
  private readonly _changed = new Signal<this, void>(this);
}
