// The lineage graph of one project in the main area: its pipelines and how they were derived.
import { MainAreaWidget } from '@jupyterlab/apputils';

import Lineage from '../components/Lineage/Lineage.svelte';
import { fusionpipeIcon } from '../icons';
import { LineageModel } from '../lineageModel';
import type { FusionpipeModel } from '../model';
import { SvelteWidget } from './SvelteWidget';

type LineageProps = {
  model: LineageModel;
  openPipeline: (pipelineId: string) => void;
};

export class LineageWidget extends MainAreaWidget<SvelteWidget<LineageProps>> {
  constructor(
    fusionpipe: FusionpipeModel,
    readonly projectId: string,
    openPipeline: (pipelineId: string) => void,
  ) {
    const model = new LineageModel(fusionpipe, projectId);
    super({ content: new SvelteWidget(Lineage, { model, openPipeline }) });
    this.model = model;
    this.id = `fusionpipe-lineage-${projectId}`;
    this.title.label = 'Lineage';
    this.title.caption = `Lineage of the pipelines of project ${projectId}`;
    this.title.icon = fusionpipeIcon;
    this.title.closable = true;
    model.changed.connect(() => {
      if (model.graph) {
        this.title.label = `Lineage: ${model.graph.project.tag}`;
      }
    });
  }

  readonly model: LineageModel;

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
