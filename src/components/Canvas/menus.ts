// The entries of the canvas's context menus, by what was right-clicked.
import { NODE_KINDS, type XY } from '../../api';
import { lockedItself } from '../../lock';
import type { MenuEntry } from '../common/menu';
import type { CanvasActions } from './actions';
import {
  isPipelineNode,
  type FlowEdge,
  type GroupFlowNode,
  type PipelineFlowNode,
} from './elements';

export function nodeMenu(actions: CanvasActions, node: PipelineFlowNode): MenuEntry[] {
  const { model } = actions;
  const data = node.data.node;
  const ids = actions.targets(node);
  const many = ids.length > 1 ? ` (${ids.length} nodes)` : '';
  const running = data.status === 'running';
  const entries: MenuEntry[] = [
    { label: 'Run node' + many, run: () => model.runNodes(ids) },
    { label: 'Run up to here', run: () => model.runUntil(node.id) },
  ];
  if (running) {
    // Only the running ones: killing any other node is refused.
    const busy = actions
      .drawn(ids)
      .filter((other) => isPipelineNode(other) && other.data.node.status === 'running');
    const label = busy.length > 1 ? `Kill (${busy.length} nodes)` : 'Kill';
    entries.push({ label, run: () => model.kill(busy.map((n) => n.id)), danger: true });
  }
  // A mapped node compares its items; any node, its runs.
  const by = data.items ? 'items' : 'runs';
  entries.push(
    { label: `Compare ${by}…`, id: 'compare', run: () => model.app.showCompare(node.id, by) },
    'separator',
    { label: 'Rename…', run: () => actions.renameNode(node) },
    { label: 'Set completed' + many, run: () => model.setStatus(ids, 'completed') },
    { label: 'Set stale' + many, run: () => model.setStatus(ids, 'staledata') },
    { label: 'Clear outputs' + many, run: () => model.clearOutputs(ids) },
    lockedItself(data)
      ? { label: 'Unlock' + many, run: () => model.setLocked(ids, false) }
      : { label: 'Lock' + many, run: () => model.setLocked(ids, true) },
    'separator',
    { label: 'Duplicate here', run: () => model.duplicate(ids, model.pipelineId, false) },
    {
      label: 'Duplicate here with data',
      run: () => model.duplicate(ids, model.pipelineId, true),
    },
    { label: 'Duplicate into pipeline…', run: () => actions.duplicateInto(ids, false) },
    { label: 'Duplicate with data into pipeline…', run: () => actions.duplicateInto(ids, true) },
    { label: 'Reference into pipeline…', run: () => actions.referenceInto(ids) },
  );
  if (data.referenced) {
    entries.push({ label: 'Detach (make a private copy)', run: () => model.detach(node.id) });
  }
  entries.push(
    { label: 'Branch from here', run: () => actions.branch(node.id) },
    'separator',
    { label: 'Group selection…', run: () => actions.group(ids) },
    { label: 'Delete' + many + '…', run: () => actions.delete(actions.drawn(ids), []) },
  );
  return entries;
}

export function groupMenu(actions: CanvasActions, group: GroupFlowNode): MenuEntry[] {
  return [
    { label: 'Rename group…', run: () => actions.renameGroup(group.data.group) },
    {
      label: group.data.group.collapsed ? 'Expand group' : 'Collapse group',
      run: () => actions.toggleGroup(group.data.group),
    },
    'separator',
    { label: 'Delete group (keep its nodes)…', run: () => actions.deleteGroup(group) },
  ];
}

export function edgeMenu(actions: CanvasActions, edge: FlowEdge): MenuEntry[] {
  return [{ label: 'Delete edge…', run: () => actions.delete([], [edge]), danger: true }];
}

/** `at`: where the menu was opened, in flow coordinates (new nodes go there). */
export function paneMenu(
  actions: CanvasActions,
  at: XY,
  selectAll: () => void,
  running: boolean,
): MenuEntry[] {
  return [
    { heading: 'Add node here' },
    ...NODE_KINDS.map((kind) => ({ label: kind, run: () => actions.addNode(kind, at) })),
    'separator',
    { label: 'Select all', run: selectAll },
    { label: 'Auto layout', run: () => actions.autoLayout() },
    ...(running ? [] : [{ label: 'Run pipeline', run: () => actions.model.run() }]),
  ];
}
