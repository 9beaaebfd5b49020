// What locks a node, as the server derives it (`locked_by`): its own lock, or a locked pipeline
// that holds it. The panel never works this out itself; it only words it.
import type { GraphNode } from './api';

/** Whether the node's own lock is on: what its Lock / Unlock entries switch. */
export function lockedItself(node: Pick<GraphNode, 'locked_by'>): boolean {
  return node.locked_by?.kind === 'node';
}

/** Why a node cannot `action` because of a lock, or null when nothing locks it. */
export function lockReason(node: Pick<GraphNode, 'locked_by'>, action: string): string | null {
  const by = node.locked_by;
  if (!by) {
    return null;
  }
  return by.kind === 'node'
    ? `The node is locked: unlock it to ${action}.`
    : `Pipeline "${by.tag}" is locked, which freezes its nodes: unlock it to ${action}.`;
}
