// What locks a node and whether it is read-only, as the server derives them (`locked_by`,
// `read_only_reason`): its own lock, a locked pipeline that holds it, or being shared by
// reference. The panel never works these out itself; it only words them.
import type { GraphNode, PipelineGraph } from './api';

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

/** Why the node's folder (its code, parameters and outputs) cannot be changed, as a sentence;
 * null when it can. */
export function readOnlyReason(node: Pick<GraphNode, 'read_only_reason'>): string | null {
  const reason = node.read_only_reason;
  return reason ? `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.` : null;
}

/** Why the pipeline refuses to `action` (an undo or redo: any graph edit) because it is
 * locked, or null when it is not. */
export function pipelineLockReason(
  pipeline: Pick<PipelineGraph, 'locked' | 'tag'>,
  action: string,
): string | null {
  return pipeline.locked ? `Pipeline "${pipeline.tag}" is locked: unlock it to ${action}.` : null;
}
