// What the sidebar lists for a search: pure, so the rules are in one place.
import type { Pipeline, Project } from '../../api';

export interface ListedProject {
  project: Project;
  /** The pipelines to show under it, undefined while they are not loaded. */
  pipelines: readonly Pipeline[] | undefined;
  /** Shown expanded: opened by the user, or holding a pipeline the search found. */
  open: boolean;
}

function matches(item: { id: string; tag: string }, needle: string): boolean {
  return item.tag.toLowerCase().includes(needle) || item.id.toLowerCase().includes(needle);
}

/**
 * A project is listed when it or one of its pipelines matches the search by tag or id. Under a
 * project found through its pipelines only those pipelines are shown; under a project that
 * matches itself, all of them.
 */
export function listProjects(
  projects: readonly Project[],
  pipelinesOf: (projectId: string) => readonly Pipeline[] | undefined,
  expanded: ReadonlySet<string>,
  search: string,
): ListedProject[] {
  const needle = search.trim().toLowerCase();
  const listed: ListedProject[] = [];
  for (const project of projects) {
    const pipelines = pipelinesOf(project.id);
    const open = expanded.has(project.id);
    if (!needle) {
      listed.push({ project, pipelines, open });
      continue;
    }
    const found = (pipelines ?? []).filter((p) => matches(p, needle));
    if (found.length) {
      listed.push({ project, pipelines: matches(project, needle) ? pipelines : found, open: true });
    } else if (matches(project, needle)) {
      listed.push({ project, pipelines, open });
    }
  }
  return listed;
}
