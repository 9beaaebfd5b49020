// How the Runs view words a run: pure functions of the data.
import type { Run, RunNode } from '../../api';

/** A mapped node's items in one run: those it executes, how many have ended, failed, run. */
export type RunItems = NonNullable<RunNode['items']>;

/** Seconds from start to end of a run; null while it has not both started and ended. */
export function runDuration(run: Run): number | null {
  if (!run.started_at || !run.finished_at) {
    return null;
  }
  return (Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000;
}

export const SCOPES: Record<string, string> = {
  pipeline: 'whole pipeline',
  until: 'up to a node',
  nodes: 'selected nodes',
};

/** "51–100 of 1,234" for the page starting at `offset`. */
export function pageLabel(offset: number, shown: number, total: number): string {
  if (!total) {
    return 'no runs';
  }
  const count = (value: number) => value.toLocaleString('en');
  return `${count(offset + 1)}–${count(offset + shown)} of ${count(total)}`;
}

/** How each attempt of a node ended, one line each: "attempt 1: exit code 5 (0.4 s)". */
export function attemptsText(node: RunNode): string {
  return node.tries
    .map((attempt) => {
      const took = attempt.duration === null ? '' : ` (${attempt.duration.toFixed(1)} s)`;
      return `attempt ${attempt.attempt}: ${attempt.reason || 'running'}${took}`;
    })
    .join('\n');
}

/** "120 of 500 items, 3 failed, 2 running": a mapped node's items in one run. */
export function itemsText(items: RunItems): string {
  const total = `${items.total.toLocaleString('en')} item${items.total === 1 ? '' : 's'}`;
  const parts = [`${items.done.toLocaleString('en')} of ${total}`];
  if (items.failed) {
    parts.push(`${items.failed.toLocaleString('en')} failed`);
  }
  if (items.running) {
    parts.push(`${items.running.toLocaleString('en')} running`);
  }
  return parts.join(', ');
}
