// The status colours of the original fusionpipe, with a readable text colour for each.
import type { NodeStatus } from '../../api';

export const STATUS_COLOURS: Record<NodeStatus, { background: string; text: string }> = {
  ready: { background: '#808080', text: '#ffffff' },
  running: { background: '#0000ff', text: '#ffffff' },
  completed: { background: '#008000', text: '#ffffff' },
  failed: { background: '#ff0000', text: '#ffffff' },
  staledata: { background: '#ffff00', text: '#000000' },
};

export const STATUS_LABELS: Record<NodeStatus, string> = {
  ready: 'ready',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  staledata: 'stale data',
};
