// A pipeline's Runs view in the main area: one widget per pipeline, opened from the canvas
// toolbar or from the notification that a run has ended.
import { MainAreaWidget } from '@jupyterlab/apputils';

import RunsView from '../components/Runs/RunsView.svelte';
import { fusionpipeIcon } from '../icons';
import type { FusionpipeModel } from '../model';
import { RunsModel } from '../runsModel';
import { SvelteWidget } from './SvelteWidget';

export class RunsWidget extends MainAreaWidget<SvelteWidget<{ model: RunsModel }>> {
  constructor(fusionpipe: FusionpipeModel, pipelineId: string) {
    const model = new RunsModel(fusionpipe, pipelineId);
    super({ content: new SvelteWidget(RunsView, { model }) });
    this.model = model;
    this.id = `fusionpipe-runs-${pipelineId}`;
    this.title.label = 'Runs';
    this.title.icon = fusionpipeIcon;
    this.title.closable = true;
    model.changed.connect(() => {
      this.title.label = model.title ? `Runs: ${model.title}` : 'Runs';
    });
  }

  readonly model: RunsModel;

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
