// The fusionpipe JupyterLab plugins.
import {
  ILabShell,
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin,
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog, WidgetTracker } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import type { Widget } from '@lumino/widgets';

import { CommandIds } from './commands';
import type { MetricsBy } from './api';
import { choosePipeline, chooseProject } from './components/Sidebar/actions';
import Sidebar from './components/Sidebar/Sidebar.svelte';
import { fusionpipeIcon } from './icons';
import { FusionpipeModel } from './model';
import { RunNotifier } from './runNotifications';
import { CompareWidget } from './widgets/CompareWidget';
import { LineageWidget } from './widgets/LineageWidget';
import { PipelineWidget } from './widgets/PipelineWidget';
import { RunsWidget } from './widgets/RunsWidget';
import { SvelteWidget } from './widgets/SvelteWidget';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'fusionpipe:sidebar',
  description: 'The fusionpipe panel: projects and pipelines.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, ILauncher],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    launcher: ILauncher | null,
  ) => {
    const model = new FusionpipeModel();
    /** Brings the main-area tab that `matches` forward, or opens the one `create` makes. */
    const showOnce = <T extends Widget>(
      tracker: WidgetTracker<T>,
      matches: (widget: T) => boolean,
      create: () => T,
    ): void => {
      const widget = tracker.find(matches) ?? create();
      if (!widget.isAttached) {
        void tracker.add(widget);
        shell.add(widget, 'main');
      }
      shell.activateById(widget.id);
    };
    /**
     * Shows the pipeline's tab of `tabs`, made by `create` if it is not open: the pipeline a
     * command's `pipelineId` argument names, else the one the user picks. Returns its id, or
     * null when none was picked.
     */
    const showPipelineTab = async <T extends Widget & { model: { pipelineId: string } }>(
      named: unknown,
      tabs: WidgetTracker<T>,
      create: (pipelineId: string) => T,
    ): Promise<string | null> => {
      const pipelineId = typeof named === 'string' ? named : await choosePipeline(model);
      if (pipelineId) {
        showOnce(
          tabs,
          (widget) => widget.model.pipelineId === pipelineId,
          () => create(pipelineId),
        );
      }
      return pipelineId;
    };
    const tracker = new WidgetTracker<PipelineWidget>({ namespace: 'fusionpipe-pipeline' });
    const lineages = new WidgetTracker<LineageWidget>({ namespace: 'fusionpipe-lineage' });
    const openPipeline = (pipelineId: string): void => {
      void app.commands.execute(CommandIds.openPipeline, { pipelineId });
    };
    model.openPipeline = openPipeline;
    const runs = new WidgetTracker<RunsWidget>({ namespace: 'fusionpipe-runs' });
    model.showRuns = (pipelineId: string, runId?: string): void => {
      void app.commands.execute(CommandIds.showRuns, { pipelineId, runId: runId ?? null });
    };
    const compares = new WidgetTracker<CompareWidget>({ namespace: 'fusionpipe-compare' });
    model.showCompare = (nodeId: string, by: MetricsBy): void => {
      void app.commands.execute(CommandIds.compare, { nodeId, by });
    };
    new RunNotifier(model);
    const showLineage = (projectId: string): void => {
      void app.commands.execute(CommandIds.showLineage, { projectId });
    };
    const sidebar = new SvelteWidget(Sidebar, { model, openPipeline, showLineage });
    sidebar.id = 'fusionpipe-sidebar';
    sidebar.title.icon = fusionpipeIcon;
    sidebar.title.caption = 'fusionpipe';
    sidebar.addClass('fp-sidebar-widget');
    shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, 'fusionpipe-sidebar');

    // The launcher shows a command's label under its card: there, just the product's name.
    app.commands.addCommand(CommandIds.openSidebar, {
      label: (args) => (args.isLauncher ? 'fusionpipe' : 'fusionpipe: Open sidebar'),
      caption: 'Show the fusionpipe projects and pipelines',
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
    app.commands.addCommand(CommandIds.createPipeline, {
      label: (args) => (args.isLauncher ? 'New pipeline' : 'fusionpipe: New pipeline'),
      caption: 'Create a fusionpipe pipeline in a project and open it',
      icon: fusionpipeIcon,
      execute: async (args) => {
        const projectId =
          typeof args.projectId === 'string'
            ? args.projectId
            : await chooseProject(model, 'New pipeline in project');
        if (!projectId) {
          return undefined;
        }
        const answer = await InputDialog.getText({
          title: 'New fusionpipe pipeline',
          label: 'Name (leave empty to use the pipeline id)',
          okLabel: 'Create',
        });
        if (!answer.button.accept) {
          return undefined;
        }
        shell.activateById(sidebar.id);
        const pipeline = await model.createPipeline(projectId, answer.value ?? '');
        if (pipeline) {
          openPipeline(pipeline.id);
        }
        return pipeline;
      },
    });
    app.commands.addCommand(CommandIds.createExample, {
      label: (args) =>
        args.isLauncher ? 'New example pipeline' : 'fusionpipe: New example pipeline',
      caption:
        'Create a small pipeline to try, in a project of its own: make data, fit (a notebook), ' +
        'plot (with its own environment) and report',
      icon: fusionpipeIcon,
      execute: () => {
        shell.activateById(sidebar.id);
        return model.createExample();
      },
    });
    app.commands.addCommand(CommandIds.openPipeline, {
      label: 'fusionpipe: Open pipeline',
      caption: 'Open a fusionpipe pipeline; asks which unless given a `pipelineId` argument',
      execute: async (args) => {
        await showPipelineTab(
          args.pipelineId,
          tracker,
          (pipelineId) => new PipelineWidget(model, pipelineId, app),
        );
      },
    });
    void restorer?.restore(tracker, {
      command: CommandIds.openPipeline,
      args: (widget) => ({ pipelineId: widget.model.pipelineId }),
      name: (widget) => widget.model.pipelineId,
    });
    app.commands.addCommand(CommandIds.showLineage, {
      label: 'fusionpipe: Show lineage of a project',
      caption: 'Draw how the pipelines of a project were branched, duplicated and merged',
      execute: async (args) => {
        const projectId =
          typeof args.projectId === 'string'
            ? args.projectId
            : await chooseProject(model, 'Show the lineage of project');
        if (!projectId) {
          return;
        }
        showOnce(
          lineages,
          (widget) => widget.projectId === projectId,
          () => new LineageWidget(model, projectId, openPipeline),
        );
      },
    });
    void restorer?.restore(lineages, {
      command: CommandIds.showLineage,
      args: (widget) => ({ projectId: widget.projectId }),
      name: (widget) => widget.projectId,
    });
    app.commands.addCommand(CommandIds.showRuns, {
      label: 'fusionpipe: Show runs',
      caption: "A pipeline's run history; `runId` opens one run",
      execute: async (args) => {
        const pipelineId = await showPipelineTab(
          args.pipelineId,
          runs,
          (pipelineId) => new RunsWidget(model, pipelineId),
        );
        if (!pipelineId) {
          return;
        }
        const widget = runs.find((found) => found.model.pipelineId === pipelineId);
        if (widget && typeof args.runId === 'string') {
          await widget.model.open(args.runId);
        }
      },
    });
    void restorer?.restore(runs, {
      command: CommandIds.showRuns,
      args: (widget) => ({ pipelineId: widget.model.pipelineId }),
      name: (widget) => widget.model.pipelineId,
    });
    app.commands.addCommand(CommandIds.compare, {
      label: 'fusionpipe: Compare results of a node',
      caption:
        "A node's values and metrics in a table and a plot: `nodeId`, and `by` items (the " +
        'default) or runs',
      execute: (args) => {
        if (typeof args.nodeId !== 'string') {
          return;
        }
        const nodeId = args.nodeId;
        const by: MetricsBy = args.by === 'runs' ? 'runs' : 'items';
        showOnce(
          compares,
          (widget) => widget.model.nodeId === nodeId,
          () => new CompareWidget(model, nodeId, by),
        );
        const widget = compares.find((found) => found.model.nodeId === nodeId);
        if (widget && widget.model.by !== by) {
          void widget.model.setBy(by);
        }
      },
    });
    void restorer?.restore(compares, {
      command: CommandIds.compare,
      args: (widget) => ({ nodeId: widget.model.nodeId, by: widget.model.by }),
      name: (widget) => widget.model.nodeId,
    });
    app.commands.addCommand(CommandIds.refresh, {
      label: 'fusionpipe: Refresh projects and pipelines',
      execute: () => model.reload(),
    });
    for (const command of [
      CommandIds.openSidebar,
      CommandIds.createProject,
      CommandIds.createPipeline,
      CommandIds.createExample,
      CommandIds.openPipeline,
      CommandIds.showLineage,
      CommandIds.showRuns,
      CommandIds.refresh,
    ]) {
      palette?.addItem({ command, category: 'fusionpipe' });
    }
    const cards = [CommandIds.openSidebar, CommandIds.createPipeline, CommandIds.createExample];
    for (const [rank, command] of cards.entries()) {
      launcher?.add({ command, category: 'fusionpipe', rank, args: { isLauncher: true } });
    }
  },
};

export default [sidebarPlugin];
