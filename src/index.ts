// The fusionpipe JupyterLab plugins.
import {
  ILabShell,
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin,
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { CommandIds } from './commands';
import Sidebar from './components/Sidebar/Sidebar.svelte';
import { fusionpipeIcon } from './icons';
import { FusionpipeModel } from './model';
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
    const sidebar = new SvelteWidget(Sidebar, { model });
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
      execute: async () => {
        shell.activateById(sidebar.id);
        await model.createProject('');
      },
    });
    for (const command of Object.values(CommandIds)) {
      palette?.addItem({ command, category: 'fusionpipe' });
    }
  },
};

export default [sidebarPlugin];
