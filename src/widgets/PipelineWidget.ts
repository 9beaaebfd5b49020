// A pipeline canvas in the main area: one widget per open pipeline.
import { MainAreaWidget } from '@jupyterlab/apputils';

import Canvas from '../components/Canvas/Canvas.svelte';
import { fusionpipeIcon } from '../icons';
import { type FusionpipeModel, PipelineModel } from '../model';
import { SvelteWidget } from './SvelteWidget';

export class PipelineWidget extends MainAreaWidget<SvelteWidget<{ model: PipelineModel }>> {
  constructor(app: FusionpipeModel, pipelineId: string) {
    const model = new PipelineModel(app, pipelineId);
    super({ content: new SvelteWidget(Canvas, { model }) });
    this.model = model;
    this.id = `fusionpipe-pipeline-${pipelineId}`;
    this.title.label = 'Pipeline';
    this.title.icon = fusionpipeIcon;
    this.title.closable = true;
    model.changed.connect(() => {
      this.title.label = model.graph?.tag ?? 'Pipeline';
    });
  }

  readonly model: PipelineModel;

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
