// How the inspector words runs: pure functions of the data, kept apart from the components.
import type { Run, RunNode } from '../../api';

/** This node's part of a run; a run may hold many nodes. */
export function nodeRun(run: Run, nodeId: string): RunNode | undefined {
  return run.nodes.find((entry) => entry.node_id === nodeId);
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) {
    return '';
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes} min ${Math.round(seconds % 60)} s`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A local date and time, short enough for a list row. */
export function formatWhen(iso: string | null): string {
  if (!iso) {
    return '';
  }
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}
