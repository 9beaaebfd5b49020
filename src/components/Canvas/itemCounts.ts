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

/** The bar's segments: one per status that has items, sized by its count. */
export function segments(counts: ItemCounts) {
  return ITEM_STATUSES.filter((status) => counts[status] > 0).map((status) => ({
    status,
    count: counts[status],
    colour: STATUS_COLOURS[status].background,
  }));
}

const count = (value: number) => value.toLocaleString('en');

/** "497 ✓ · 3 ✗ / 500": done, running and failed items of all of them. */
export function countsLabel(counts: ItemCounts): string {
  const parts = [`${count(counts.completed)} ✓`];
  if (counts.running) {
    parts.push(`${count(counts.running)} ▸`);
  }
  if (counts.failed) {
    parts.push(`${count(counts.failed)} ✗`);
  }
  return `${parts.join(' · ')} / ${count(counts.total)}`;
}

/** Every status with its count, for a tooltip: "497 completed, 3 failed of 500 items". */
export function countsTitle(counts: ItemCounts): string {
  const parts = ITEM_STATUSES.filter((status) => counts[status] > 0).map(
    (status) => `${count(counts[status])} ${STATUS_LABELS[status]}`,
  );
  return `${parts.join(', ') || 'none run yet'} of ${count(counts.total)} items`;
}
