// A pipeline in the main area: its canvas with the node inspector beside it, one widget per
// open pipeline.
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';

import PipelineView from '../components/PipelineView.svelte';
import { fusionpipeIcon } from '../icons';
import type { FusionpipeModel } from '../model';
import { PipelineModel } from '../pipelineModel';
import { NodeModel } from '../nodeModel';
import { SvelteWidget } from './SvelteWidget';

export class PipelineWidget extends MainAreaWidget<SvelteWidget<{ inspector: NodeModel }>> {
  /** `app` lets the inspector open the node's folder and notebooks in the lab. */
  constructor(fusionpipe: FusionpipeModel, pipelineId: string, app?: JupyterFrontEnd) {
    const model = new PipelineModel(fusionpipe, pipelineId);
    const inspector = new NodeModel(model, app);
    super({ content: new SvelteWidget(PipelineView, { inspector }) });
    this.model = model;
    this.inspector = inspector;
    this.id = `fusionpipe-pipeline-${pipelineId}`;
    this.title.label = 'Pipeline';
    this.title.icon = fusionpipeIcon;
    this.title.closable = true;
    model.changed.connect(() => {
      this.title.label = model.graph?.tag ?? 'Pipeline';
    });
  }

  readonly model: PipelineModel;
  readonly inspector: NodeModel;

  dispose(): void {
    this.inspector.dispose();
    this.model.dispose();
    super.dispose();
  }
}
