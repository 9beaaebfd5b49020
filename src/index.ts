// The fusionpipe JupyterLab plugins.
import {
  ILabShell,
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin,
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog, WidgetTracker } from '@jupyterlab/apputils';

import { CommandIds } from './commands';
import Sidebar from './components/Sidebar/Sidebar.svelte';
import { fusionpipeIcon } from './icons';
import { FusionpipeModel } from './model';
import { PipelineWidget } from './widgets/PipelineWidget';
import { SvelteWidget } from './widgets/SvelteWidget';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'fusionpipe:sidebar',
  description: 'The fusionpipe panel: projects and pipelines.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
  ) => {
    const model = new FusionpipeModel();
    const tracker = new WidgetTracker<PipelineWidget>({ namespace: 'fusionpipe-pipeline' });
    const openPipeline = (pipelineId: string): void => {
      void app.commands.execute(CommandIds.openPipeline, { pipelineId });
    };
    const sidebar = new SvelteWidget(Sidebar, { model, openPipeline });
    sidebar.id = 'fusionpipe-sidebar';
    sidebar.title.icon = fusionpipeIcon;
    sidebar.title.caption = 'fusionpipe';
    sidebar.addClass('fp-sidebar-widget');
    shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, 'fusionpipe-sidebar');

    app.commands.addCommand(CommandIds.openSidebar, {
      label: 'fusionpipe: Open sidebar',
      icon: fusionpipeIcon,
      execute: () => shell.activateById(sidebar.id),
    });
    app.commands.addCommand(CommandIds.createProject, {
      label: 'fusionpipe: New project',
      caption: 'Create a fusionpipe project; asks for its name unless given a `tag` argument',
      execute: async (args) => {
        let tag = typeof args.tag === 'string' ? args.tag : null;
        if (tag === null) {
          const answer = await InputDialog.getText({
            title: 'New fusionpipe project',
            label: 'Name (leave empty to use the project id)',
            okLabel: 'Create',
          });
          if (!answer.button.accept) {
            return undefined;
          }
          tag = answer.value ?? '';
        }
        shell.activateById(sidebar.id);
        return model.createProject(tag);
      },
    });
    app.commands.addCommand(CommandIds.openPipeline, {
      label: 'fusionpipe: Open pipeline',
      execute: (args) => {
        const pipelineId = String(args.pipelineId);
        const open = tracker.find((widget) => widget.model.pipelineId === pipelineId);
        if (open) {
          shell.activateById(open.id);
          return;
        }
        const widget = new PipelineWidget(model, pipelineId, app);
        void tracker.add(widget);
        shell.add(widget, 'main');
        shell.activateById(widget.id);
      },
    });
    void restorer?.restore(tracker, {
      command: CommandIds.openPipeline,
      args: (widget) => ({ pipelineId: widget.model.pipelineId }),
      name: (widget) => widget.model.pipelineId,
    });
    for (const command of [CommandIds.openSidebar, CommandIds.createProject]) {
      palette?.addItem({ command, category: 'fusionpipe' });
    }
  },
};

export default [sidebarPlugin];
