// How a mapped node's item counts read on the canvas and in the inspector: pure functions of
// the counts object the graph carries (never of the items themselves, so 10,000 items cost what
// 10 do).
import type { ItemCounts, NodeStatus } from '../../api';
import { STATUS_COLOURS, STATUS_LABELS } from './status';

/** The bar's order: done, under way, wrong, to do again, not run yet. */
export const ITEM_STATUSES: readonly NodeStatus[] = [
  'completed',
  'running',
  'failed',
  'staledata',
  'ready',
];

/** A bar segment's colour for the running items still waiting in a batch queue (Slurm's
 * PENDING): the running blue, faded, for "running for fusionpipe, not started yet". */
const QUEUED_COLOUR = '#9999ff';

/** How many items of a status are shown as such: running ones waiting in a batch queue are
 * shown apart, as queued. */
function shown(counts: ItemCounts, status: NodeStatus): number {
  return status === 'running' ? counts.running - counts.queued : counts[status];
}

/** The bar's segments: one per status that has items, sized by its count, the queued items
 * after the running ones. */
export function segments(counts: ItemCounts) {
  const found = ITEM_STATUSES.map((status) => ({
    status: status as NodeStatus | 'queued',
    count: shown(counts, status),
    colour: STATUS_COLOURS[status].background,
  }));
  found.splice(2, 0, { status: 'queued', count: counts.queued, colour: QUEUED_COLOUR });
  return found.filter((segment) => segment.count > 0);
}

const count = (value: number) => value.toLocaleString('en');

/** "497 ✓ · 3 ✗ / 500": done, running, queued and failed items of all of them. */
export function countsLabel(counts: ItemCounts): string {
  const parts = [`${count(counts.completed)} ✓`];
  const running = shown(counts, 'running');
  if (running) {
    parts.push(`${count(running)} ▸`);
  }
  if (counts.queued) {
    parts.push(`${count(counts.queued)} queued`);
  }
  if (counts.failed) {
    parts.push(`${count(counts.failed)} ✗`);
  }
  return `${parts.join(' · ')} / ${count(counts.total)}`;
}

/** Every status with its count, for a tooltip: "497 completed, 3 failed of 500 items". */
export function countsTitle(counts: ItemCounts): string {
  const parts = segments(counts).map(
    (segment) =>
      `${count(segment.count)} ${segment.status === 'queued' ? 'queued (waiting in Slurm)' : STATUS_LABELS[segment.status]}`,
  );
  return `${parts.join(', ') || 'none run yet'} of ${count(counts.total)} items`;
}
