// The server's graph as Svelte Flow nodes and edges. Pure: no I/O, so it is cheap to run on
// every refresh and easy to reason about.
//
// Groups are Svelte Flow parent nodes: a member's position is kept relative to its group (Svelte
// Flow moves members with their group), while the server stores absolute node positions, so
// positions are converted both ways here and in `absolutePositions`.
import type { Edge, Node } from '@xyflow/svelte';

import type { GraphEdge, GraphNode, Group, PipelineGraph, XY } from '../../api';

export type PipelineFlowNode = Node<{ node: GraphNode }, 'pipeline'>;
export type GroupFlowNode = Node<{ group: Group; members: number }, 'fpgroup'>;
export type FlowNode = PipelineFlowNode | GroupFlowNode;
/** `edge` is absent on the stand-in edges drawn to a collapsed group. */
export type FlowEdge = Edge<{ edge?: GraphEdge }>;

/** A collapsed group is drawn as one compact box, about the size of a node. */
export const COLLAPSED_SIZE = { width: 200, height: 56 };

export function isPipelineNode(node: Node): node is PipelineFlowNode {
  return node.type === 'pipeline';
}

export function isGroupNode(node: Node): node is GroupFlowNode {
  return node.type === 'fpgroup';
}

/** Whether two fields of a node hold the same: by value for the objects each graph fetch makes
 * anew (position, item counts, stale reasons, what locks it), small enough to compare whole. */
function sameField(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  return typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b);
}

function sameNode(a: GraphNode, b: GraphNode): boolean {
  const keys = Object.keys(a) as (keyof GraphNode)[];
  return keys.length === Object.keys(b).length && keys.every((key) => sameField(a[key], b[key]));
}

function sameGroup(a: Group, b: Group): boolean {
  return (
    a.tag === b.tag &&
    a.collapsed === b.collapsed &&
    a.position.x === b.position.x &&
    a.position.y === b.position.y &&
    a.size.width === b.size.width &&
    a.size.height === b.size.height
  );
}

/**
 * The nodes to draw, groups first (Svelte Flow needs a parent before its children). A node whose
 * server data did not change keeps its previous object, so Svelte Flow skips it: during a run of
 * a 1,000-node pipeline only the nodes whose status changed are redrawn. Selection and measured
 * sizes carry over from `previous`.
 */
export function toFlowNodes(graph: PipelineGraph, previous: readonly FlowNode[]): FlowNode[] {
  const before = new Map(previous.map((node) => [node.id, node]));
  const groups = new Map(graph.groups.map((group) => [group.id, group]));
  const members = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.group && groups.has(node.group)) {
      members.set(node.group, (members.get(node.group) ?? 0) + 1);
    }
  }

  const result: FlowNode[] = [];
  for (const group of graph.groups) {
    const old = before.get(group.id);
    const count = members.get(group.id) ?? 0;
    if (old && isGroupNode(old) && sameGroup(old.data.group, group) && old.data.members === count) {
      result.push(old);
      continue;
    }
    const size = group.collapsed ? COLLAPSED_SIZE : group.size;
    result.push({
      id: group.id,
      type: 'fpgroup',
      position: group.position,
      width: size.width,
      height: size.height,
      data: { group, members: count },
      selected: old?.selected,
      connectable: false,
      class: group.collapsed ? 'fp-group-collapsed' : undefined,
      // Under everything: a frame must never cover the nodes it holds.
      zIndex: -1,
    });
  }

  for (const node of graph.nodes) {
    const old = before.get(node.id);
    const group = node.group ? groups.get(node.group) : undefined;
    const position = group ? relative(node.position, group.position) : node.position;
    const hidden = group?.collapsed ?? false;
    if (
      old &&
      isPipelineNode(old) &&
      sameNode(old.data.node, node) &&
      old.parentId === group?.id &&
      old.hidden === hidden &&
      old.position.x === position.x &&
      old.position.y === position.y
    ) {
      result.push(old);
      continue;
    }
    result.push({
      id: node.id,
      type: 'pipeline',
      position,
      parentId: group?.id,
      hidden,
      data: { node },
      selected: old?.selected,
      measured: old?.measured,
    });
  }
  return result;
}

function relative(point: XY, origin: XY): XY {
  return { x: point.x - origin.x, y: point.y - origin.y };
}

/**
 * The edges to draw. An edge into or out of a collapsed group is drawn to the group's box instead,
 * once per pair of boxes, with the slots of the edges it stands for; edges inside one collapsed
 * group are not drawn.
 */
export function toFlowEdges(graph: PipelineGraph, previous: readonly FlowEdge[]): FlowEdge[] {
  const selected = new Set(previous.filter((edge) => edge.selected).map((edge) => edge.id));
  const collapsed = new Set(graph.groups.filter((g) => g.collapsed).map((g) => g.id));
  const shownAs = new Map<string, string>();
  for (const node of graph.nodes) {
    if (node.group && collapsed.has(node.group)) {
      shownAs.set(node.id, node.group);
    }
  }

  const result: FlowEdge[] = [];
  const standIns = new Map<string, FlowEdge & { slots: string[] }>();
  for (const edge of graph.edges) {
    const source = shownAs.get(edge.source) ?? edge.source;
    const target = shownAs.get(edge.target) ?? edge.target;
    if (source === edge.source && target === edge.target) {
      result.push({
        id: edge.id,
        source,
        target,
        label: edge.slot,
        data: { edge },
        selected: selected.has(edge.id),
      });
    } else if (source !== target) {
      const id = `via-group:${source}:${target}`;
      const standIn = standIns.get(id) ?? {
        id,
        source,
        target,
        slots: [],
        selectable: false,
        deletable: false,
        focusable: false,
        class: 'fp-edge-via-group',
        data: {},
      };
      standIn.slots.push(edge.slot);
      standIns.set(id, standIn);
    }
  }
  for (const { slots, ...edge } of standIns.values()) {
    result.push({ ...edge, label: [...new Set(slots)].sort().join(', ') });
  }
  return result;
}

/**
 * Server (absolute) positions of the given nodes, after a drag: members of a group are relative
 * to it, and a moved group moves all of its members.
 */
export function absolutePositions(
  moved: readonly FlowNode[],
  all: readonly FlowNode[],
): { nodes: Record<string, XY>; groups: Record<string, XY> } {
  const current = new Map(all.map((node) => [node.id, node]));
  for (const node of moved) {
    current.set(node.id, node);
  }
  const origin = (node: FlowNode): XY => {
    const parent = node.parentId ? current.get(node.parentId) : undefined;
    return parent ? parent.position : { x: 0, y: 0 };
  };
  const nodes: Record<string, XY> = {};
  const groups: Record<string, XY> = {};
  const movedGroups = new Set<string>();
  for (const node of moved) {
    if (isGroupNode(node)) {
      groups[node.id] = node.position;
      movedGroups.add(node.id);
    }
  }
  const movedIds = new Set(moved.map((node) => node.id));
  for (const node of current.values()) {
    const wasMoved = movedIds.has(node.id) || (node.parentId && movedGroups.has(node.parentId));
    if (isPipelineNode(node) && wasMoved) {
      const base = origin(node);
      nodes[node.id] = { x: base.x + node.position.x, y: base.y + node.position.y };
    }
  }
  return { nodes, groups };
}

/** The nodes with `chosen` ones selected; only those whose flag changes are new objects. */
export function withSelection(
  nodes: readonly FlowNode[],
  chosen: (node: FlowNode) => boolean,
): FlowNode[] {
  return nodes.map((node) =>
    Boolean(node.selected) === chosen(node) ? node : { ...node, selected: chosen(node) },
  );
}
