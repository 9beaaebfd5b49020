// The lineage graph of one project in the main area: its pipelines and how they were derived.
import { MainAreaWidget } from '@jupyterlab/apputils';

import type { ProjectGraph } from '../api';
import Lineage from '../components/Lineage/Lineage.svelte';
import { fusionpipeIcon } from '../icons';
import type { FusionpipeModel } from '../model';
import { SvelteWidget } from './SvelteWidget';

type LineageProps = {
  model: FusionpipeModel;
  projectId: string;
  openPipeline: (pipelineId: string) => void;
  onloaded: (graph: ProjectGraph) => void;
};

export class LineageWidget extends MainAreaWidget<SvelteWidget<LineageProps>> {
  constructor(
    model: FusionpipeModel,
    readonly projectId: string,
    openPipeline: (pipelineId: string) => void,
  ) {
    const props: LineageProps = { model, projectId, openPipeline, onloaded: () => undefined };
    super({ content: new SvelteWidget(Lineage, props) });
    // The component mounts once the widget is attached, after this: `this` is usable by then.
    props.onloaded = (graph) => {
      this.title.label = `Lineage: ${graph.project.tag}`;
    };
    this.id = `fusionpipe-lineage-${projectId}`;
    this.title.label = 'Lineage';
    this.title.caption = `Lineage of the pipelines of project ${projectId}`;
    this.title.icon = fusionpipeIcon;
    this.title.closable = true;
  }
}
