// What the sidebar lists for a search: pure, so the rules are in one place.
import type { Pipeline, Project } from '../../api';

export interface ListedProject {
  project: Project;
  /** The pipelines to show under it, undefined while they are not loaded. */
  pipelines: readonly Pipeline[] | undefined;
  /** Shown expanded: opened by the user, or holding a pipeline the search found. */
  open: boolean;
  /** Listed for pipelines the search found in it: open unless the user folded it. */
  found: boolean;
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
  open: { expanded: ReadonlySet<string>; folded: ReadonlySet<string> },
  search: string,
): ListedProject[] {
  const needle = search.trim().toLowerCase();
  const listed: ListedProject[] = [];
  for (const project of projects) {
    const pipelines = pipelinesOf(project.id);
    const expanded = open.expanded.has(project.id);
    if (!needle) {
      listed.push({ project, pipelines, open: expanded, found: false });
      continue;
    }
    const hits = (pipelines ?? []).filter((p) => matches(p, needle));
    if (hits.length) {
      listed.push({
        project,
        pipelines: matches(project, needle) ? pipelines : hits,
        open: !open.folded.has(project.id),
        found: true,
      });
    } else if (matches(project, needle)) {
      listed.push({ project, pipelines, open: expanded, found: false });
    }
  }
  return listed;
}
