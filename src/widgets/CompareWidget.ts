// A node's Compare view in the main area: its items' (or runs') values and metrics as a table
// and a plot; one widget per node, opened from the inspector's Items section or the canvas.
import { MainAreaWidget } from '@jupyterlab/apputils';

import type { MetricsBy } from '../api';
import { CompareModel } from '../compareModel';
import CompareView from '../components/Compare/CompareView.svelte';
import { fusionpipeIcon } from '../icons';
import type { FusionpipeModel } from '../model';
import { SvelteWidget } from './SvelteWidget';

export class CompareWidget extends MainAreaWidget<SvelteWidget<{ model: CompareModel }>> {
  constructor(fusionpipe: FusionpipeModel, nodeId: string, by: MetricsBy) {
    const model = new CompareModel(fusionpipe, nodeId, by);
    super({ content: new SvelteWidget(CompareView, { model }) });
    this.model = model;
    this.id = `fusionpipe-compare-${nodeId}`;
    this.title.label = 'Compare';
    this.title.icon = fusionpipeIcon;
    this.title.closable = true;
    model.changed.connect(() => {
      this.title.label = model.title ? `Compare: ${model.title}` : 'Compare';
    });
  }

  readonly model: CompareModel;

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
