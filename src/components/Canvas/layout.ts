// Geometry of the canvas: the automatic (dagre) layout and the frame drawn around a group.
// Pure functions over server positions (absolute) and measured node sizes.
import { Graph, layout } from '@dagrejs/dagre';

import type { PipelineGraph, Size, XY } from '../../api';
import { COLLAPSED_SIZE } from './elements';

export type Box = XY & Size;

/** Room around a group's members, and above them for the group's title bar. */
export const GROUP_PADDING = 20;
export const GROUP_HEADER = 36;
/** Used for a node not measured yet (hidden in a collapsed group, or not drawn yet). */
export const DEFAULT_NODE_SIZE: Size = { width: 180, height: 70 };

/** The box of a group holding nodes drawn in `boxes`. */
export function frameAround(boxes: readonly Box[]): Box {
  const left = Math.min(...boxes.map((b) => b.x));
  const top = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return {
    x: left - GROUP_PADDING,
    y: top - GROUP_PADDING - GROUP_HEADER,
    width: right - left + 2 * GROUP_PADDING,
    height: bottom - top + 2 * GROUP_PADDING + GROUP_HEADER,
  };
}

export interface Layout {
  /** Top-left corner of every node, absolute. */
  positions: Record<string, XY>;
  /** New box of every group (a collapsed group keeps its expanded size). */
  groups: Record<string, { position: XY; size?: Size }>;
}

/**
 * A top-to-bottom layered layout. An expanded group is a dagre cluster, so its members stay
 * together and its frame is redrawn around them; a collapsed group is laid out as one box and its
 * hidden members move with it, keeping their arrangement for when it is expanded again.
 */
export function autoLayout(graph: PipelineGraph, sizeOf: (nodeId: string) => Size): Layout {
  const dagre = new Graph({ compound: true });
  // Rank gaps leave room for a group's title bar between a frame and the row above it.
  dagre.setGraph({
    rankdir: 'TB',
    nodesep: 50,
    ranksep: 70 + GROUP_HEADER,
    marginx: 0,
    marginy: 0,
  });
  dagre.setDefaultEdgeLabel(() => ({}));

  const collapsed = new Set(graph.groups.filter((g) => g.collapsed).map((g) => g.id));
  const shownAs = new Map<string, string>();
  for (const group of graph.groups) {
    if (collapsed.has(group.id)) {
      dagre.setNode(group.id, { ...COLLAPSED_SIZE });
    } else if (graph.nodes.some((node) => node.group === group.id)) {
      dagre.setNode(group.id, {});
    }
  }
  for (const node of graph.nodes) {
    if (node.group && collapsed.has(node.group)) {
      shownAs.set(node.id, node.group);
      continue;
    }
    dagre.setNode(node.id, { ...sizeOf(node.id) });
    if (node.group && dagre.hasNode(node.group)) {
      dagre.setParent(node.id, node.group);
    }
  }
  for (const edge of graph.edges) {
    const source = shownAs.get(edge.source) ?? edge.source;
    const target = shownAs.get(edge.target) ?? edge.target;
    if (source !== target) {
      dagre.setEdge(source, target);
    }
  }
  layout(dagre);

  const topLeft = (id: string): XY => {
    const { x, y, width, height } = dagre.node(id);
    return { x: x - width / 2, y: y - height / 2 };
  };
  const positions: Record<string, XY> = {};
  const groups: Layout['groups'] = {};
  const memberBoxes = new Map<string, Box[]>();
  for (const node of graph.nodes) {
    const group = node.group ?? '';
    if (collapsed.has(group)) {
      continue;
    }
    positions[node.id] = topLeft(node.id);
    if (node.group && dagre.hasNode(node.group)) {
      const boxes = memberBoxes.get(node.group) ?? [];
      boxes.push({ ...positions[node.id], ...sizeOf(node.id) });
      memberBoxes.set(node.group, boxes);
    }
  }
  for (const group of graph.groups) {
    if (collapsed.has(group.id)) {
      const position = topLeft(group.id);
      const dx = position.x - group.position.x;
      const dy = position.y - group.position.y;
      for (const node of graph.nodes) {
        if (node.group === group.id) {
          positions[node.id] = { x: node.position.x + dx, y: node.position.y + dy };
        }
      }
      groups[group.id] = { position };
    } else if (memberBoxes.has(group.id)) {
      const { x, y, width, height } = frameAround(memberBoxes.get(group.id)!);
      groups[group.id] = { position: { x, y }, size: { width, height } };
    }
  }
  return { positions, groups };
}

/**
 * Where a new node of `size` goes near `wanted` without covering another node: `wanted` itself if
 * it is free, else the nearest free place on a grid of node-sized steps around it.
 */
export function freeSpot(wanted: XY, size: Size, taken: readonly Box[]): XY {
  const gap = 20;
  const overlaps = (spot: XY) =>
    taken.some(
      (box) =>
        spot.x < box.x + box.width + gap &&
        box.x < spot.x + size.width + gap &&
        spot.y < box.y + box.height + gap &&
        box.y < spot.y + size.height + gap,
    );
  const stepX = size.width + gap;
  const stepY = size.height + gap;
  for (let ring = 0; ring < 20; ring++) {
    const spots: XY[] = [];
    for (let i = -ring; i <= ring; i++) {
      for (let j = -ring; j <= ring; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) === ring) {
          spots.push({ x: wanted.x + i * stepX, y: wanted.y + j * stepY });
        }
      }
    }
    const distance = (p: XY) => Math.hypot(p.x - wanted.x, p.y - wanted.y);
    const free = spots.sort((a, b) => distance(a) - distance(b)).find((spot) => !overlaps(spot));
    if (free) {
      return free;
    }
  }
  return wanted;
}
