// What the sidebar can do to a project or a pipeline: each action asks what it needs through a
// dialog, then calls the model (which reports server errors itself).
import { Notification } from '@jupyterlab/apputils';

import type { Pipeline, Project } from '../../api';
import type { FusionpipeModel } from '../../model';
import {
  askChecked,
  askChoice,
  askNotes,
  askText,
  askWithData,
  confirmTyped,
} from '../common/dialogs';
import { download } from '../common/download';
import type { MenuItem } from '../common/menu';

/** What the sidebar needs from the rest of the lab. */
export interface SidebarHost {
  model: FusionpipeModel;
  openPipeline: (pipelineId: string) => void;
  showLineage: (projectId: string) => void;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export async function renameProject(host: SidebarHost, project: Project): Promise<void> {
  const tag = await askText('Rename project', 'New name', project.tag, 'Rename');
  if (tag && tag !== project.tag) {
    await host.model.updateProject(project.id, { tag });
  }
}

/**
 * Why you may not delete, move or lock it, as the server answered with the listing
 * (`may_manage`: its owner or an admin may); undefined when you may, or when it is not known.
 */
export function notYours(item: Project | Pipeline): string | undefined {
  return item.may_manage === false
    ? `only ${item.owner} (the owner) or an admin may do this`
    : undefined;
}

/** The Delete key reaches what is not yours too: say why nothing happens. */
function refuseNotYours(item: Project | Pipeline, kind: string): boolean {
  const refused = item.may_manage === false;
  if (refused) {
    Notification.warning(
      `Only ${item.owner} (the owner) or an admin may delete ${kind} "${item.tag}".`,
      { autoClose: 5000 },
    );
  }
  return refused;
}

const RESTORABLE = 'It goes to Recently deleted, at the bottom of this panel, to be restored.';

export async function deleteProject(host: SidebarHost, project: Project): Promise<void> {
  if (refuseNotYours(project, 'project')) {
    return;
  }
  // Count from the server, not from a list that may be stale or not loaded yet.
  await host.model.loadPipelines(project.id);
  const count = host.model.pipelinesOf(project.id)?.length ?? 0;
  const message = count
    ? `Project "${project.tag}" holds ${plural(count, 'pipeline')}: they are deleted with it, ` +
      'and so are their nodes that no other pipeline uses.'
    : `Project "${project.tag}" is empty.`;
  if (await confirmTyped('Delete project', [message, RESTORABLE], [project.tag])) {
    await host.model.deleteProject(project.id, count > 0);
  }
}

/** Saves the pipeline's export (a zip: pipeline.yaml and each node's code/) as a download. */
export async function exportPipeline(host: SidebarHost, pipeline: Pipeline): Promise<void> {
  const exported = await host.model.exportPipeline(pipeline);
  if (!exported) {
    return;
  }
  download(exported.zip, exported.name);
}

/** Asks for a zip an export made, imports it into the project and opens the new pipeline. */
export async function importPipeline(host: SidebarHost, project: Project): Promise<void> {
  const zip = await chooseFile('.zip,application/zip');
  const pipeline = zip ? await host.model.importPipeline(project.id, zip) : undefined;
  if (pipeline) {
    Notification.success(`Imported "${pipeline.tag}" into project "${project.tag}".`, {
      autoClose: 5000,
    });
    host.openPipeline(pipeline.id);
  }
}

/** The browser's file picker; null when the user closes it without a file. */
function chooseFile(accept: string): Promise<File | null> {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = accept;
  input.hidden = true;
  document.body.append(input);
  return new Promise((resolve) => {
    const done = (): void => {
      input.remove();
      resolve(input.files?.[0] ?? null);
    };
    input.addEventListener('change', done, { once: true });
    input.addEventListener('cancel', done, { once: true });
    input.click();
  });
}

export function projectMenu(host: SidebarHost, project: Project): MenuItem[] {
  const { model } = host;
  return [
    { id: 'rename', label: 'Rename…', shortcut: 'F2', run: () => renameProject(host, project) },
    {
      id: 'notes',
      label: 'Edit notes…',
      run: async () => {
        const notes = await askNotes(`Notes of ${project.tag}`, project.notes);
        if (notes !== null && notes !== project.notes) {
          await model.updateProject(project.id, { notes });
        }
      },
    },
    {
      id: 'new-pipeline',
      label: 'New pipeline…',
      run: async () => {
        const tag = await askText('New pipeline', 'Name (leave empty to use the id)', '', 'Create');
        // Opened at once, as from the palette: the project may be folded in the list.
        const pipeline = tag === null ? undefined : await model.createPipeline(project.id, tag);
        if (pipeline) {
          host.openPipeline(pipeline.id);
        }
      },
    },
    { id: 'lineage', label: 'Show lineage graph', run: () => host.showLineage(project.id) },
    { id: 'import', label: 'Import pipeline…', run: () => importPipeline(host, project) },
    {
      id: 'delete',
      label: 'Delete…',
      shortcut: 'Del',
      danger: true,
      disabled: notYours(project),
      run: () => deleteProject(host, project),
    },
  ];
}

/** F2 and Delete reach locked pipelines too: say why nothing happens before asking anything. */
function refuseLocked(pipeline: Pipeline): boolean {
  if (pipeline.locked) {
    Notification.warning(`Pipeline "${pipeline.tag}" is locked: unlock it first.`, {
      autoClose: 5000,
    });
  }
  return pipeline.locked;
}

export async function renamePipeline(host: SidebarHost, pipeline: Pipeline): Promise<void> {
  if (refuseLocked(pipeline)) {
    return;
  }
  const tag = await askText('Rename pipeline', 'New name', pipeline.tag, 'Rename');
  if (tag && tag !== pipeline.tag) {
    await host.model.updatePipeline(pipeline, { tag });
  }
}

export async function deletePipeline(host: SidebarHost, pipeline: Pipeline): Promise<void> {
  if (refuseNotYours(pipeline, 'pipeline') || refuseLocked(pipeline)) {
    return;
  }
  const message =
    `Pipeline "${pipeline.tag}" is deleted, with its nodes that no other pipeline uses ` +
    '(their folders and data too).';
  if (await confirmTyped('Delete pipeline', [message, RESTORABLE], [pipeline.tag])) {
    await host.model.deletePipeline(pipeline);
  }
}

/** Merge into a new pipeline, and say which one it is: it appears in the list but not opened. */
export async function mergePipelines(
  host: SidebarHost,
  pipelines: readonly Pipeline[],
): Promise<void> {
  const merged = await host.model.mergePipelines(pipelines);
  if (merged) {
    Notification.success(`Merged into the new pipeline "${merged.tag}".`, { autoClose: 5000 });
  }
}

function others(host: SidebarHost, pipeline: Pipeline): readonly Pipeline[] {
  return (host.model.pipelinesOf(pipeline.project_id) ?? []).filter((p) => p.id !== pipeline.id);
}

export function pipelineMenu(host: SidebarHost, pipeline: Pipeline): MenuItem[] {
  const { model } = host;
  // A locked pipeline accepts nothing but being unlocked: say so instead of letting it fail.
  const locked = pipeline.locked ? 'unlock it first' : undefined;
  // Deleting, moving and locking are for its owner and admins: the server said which you are.
  const owners = notYours(pipeline);
  return [
    { id: 'open', label: 'Open', run: () => host.openPipeline(pipeline.id) },
    {
      id: 'rename',
      label: 'Rename…',
      shortcut: 'F2',
      disabled: locked,
      run: () => renamePipeline(host, pipeline),
    },
    {
      id: 'notes',
      label: 'Edit notes…',
      disabled: locked,
      run: async () => {
        const notes = await askNotes(`Notes of ${pipeline.tag}`, pipeline.notes);
        if (notes !== null && notes !== pipeline.notes) {
          await model.updatePipeline(pipeline, { notes });
        }
      },
    },
    {
      id: 'move',
      label: 'Move to project…',
      disabled: owners ?? locked ?? (model.projects.length < 2 ? 'no other project' : undefined),
      run: async () => {
        const targets = model.projects
          .filter((p) => p.id !== pipeline.project_id)
          .map((p) => ({ label: `${p.tag} (${p.id})`, value: p.id }));
        const projectId = await askChoice(`Move ${pipeline.tag}`, 'To project', targets, 'Move');
        const target = model.projects.find((p) => p.id === projectId);
        // The target project may be folded in the list: say where the pipeline went.
        if (target && (await model.updatePipeline(pipeline, { project_id: target.id }))) {
          Notification.success(`Moved "${pipeline.tag}" to project "${target.tag}".`, {
            autoClose: 5000,
          });
        }
      },
    },
    {
      id: 'duplicate',
      label: 'Duplicate…',
      run: async () => {
        const withData = await askWithData(`Duplicate ${pipeline.tag}`);
        if (withData !== null) {
          await model.duplicatePipeline(pipeline, withData);
        }
      },
    },
    { id: 'export', label: 'Export pipeline…', run: () => exportPipeline(host, pipeline) },
    {
      id: 'lock',
      label: pipeline.locked ? 'Unlock' : 'Lock',
      disabled: owners,
      run: () => model.updatePipeline(pipeline, { locked: !pipeline.locked }),
    },
    {
      id: 'merge',
      label: 'Merge with…',
      disabled: others(host, pipeline).length ? undefined : 'no other pipeline in this project',
      run: async () => {
        const choices = others(host, pipeline).map((p) => ({ label: p.tag, value: p }));
        const chosen = await askChecked(
          `Merge ${pipeline.tag}`,
          'Merge with these pipelines into a new one (the nodes are shared, not copied):',
          choices,
          'Merge',
        );
        if (chosen?.length) {
          await mergePipelines(host, [pipeline, ...chosen]);
        }
      },
    },
    {
      id: 'delete',
      label: 'Delete…',
      shortcut: 'Del',
      danger: true,
      disabled: owners ?? locked,
      run: () => deletePipeline(host, pipeline),
    },
  ];
}

/** Asks for a project by name, for the palette commands; null when cancelled or none exist. */
export async function chooseProject(model: FusionpipeModel, title: string): Promise<string | null> {
  await model.refresh();
  if (!model.projects.length) {
    Notification.info('There is no fusionpipe project yet: create one first.', {
      autoClose: 5000,
    });
    return null;
  }
  const choices = model.projects.map((p) => ({ label: `${p.tag} (${p.id})`, value: p.id }));
  return askChoice(title, 'Project', choices, 'OK');
}

/** Asks for a pipeline by name among those of every project; null when cancelled or none. */
export async function choosePipeline(model: FusionpipeModel): Promise<string | null> {
  await model.refresh();
  await model.loadAllPipelines();
  const projects = new Map(model.projects.map((p) => [p.id, p.tag]));
  const choices = model.pipelines.map((p) => ({
    label: `${p.tag} (${projects.get(p.project_id) ?? p.project_id})`,
    value: p.id,
  }));
  if (!choices.length) {
    Notification.info('There is no fusionpipe pipeline yet: create one first.', {
      autoClose: 5000,
    });
    return null;
  }
  return askChoice('Open pipeline', 'Pipeline (project)', choices, 'Open');
}
