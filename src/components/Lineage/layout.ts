// The lineage graph's layout, computed by dagre: parents above their children, edges routed
// around the boxes, and each edge's label where dagre kept room for it. Pure.
import { Graph, layout } from '@dagrejs/dagre';

import type { Pipeline, ProjectGraph } from '../../api';

export const BOX = { width: 200, height: 64 };
const LABEL = { width: 70, height: 18 };

export type LineageEdge = ProjectGraph['edges'][number];

export interface Point {
  x: number;
  y: number;
}

export interface Route {
  points: Point[];
  label: Point;
}

export interface LineageLayout {
  /** Top-left corner of each pipeline's box, by pipeline id. */
  boxes: Map<string, Point>;
  /** Each edge's route, by `edgeId`. */
  routes: Map<string, Route>;
}

export function edgeId(edge: LineageEdge): string {
  return `${edge.source}>${edge.target}:${edge.relation}`;
}

export function layoutLineage(
  pipelines: readonly Pipeline[],
  edges: readonly LineageEdge[],
): LineageLayout {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 50, edgesep: 30, ranksep: 60 });
  for (const pipeline of pipelines) {
    graph.setNode(pipeline.id, { ...BOX });
  }
  const known = new Set(pipelines.map((p) => p.id));
  const drawn = edges.filter((e) => known.has(e.source) && known.has(e.target));
  for (const edge of drawn) {
    // A sized label makes dagre keep room for it between the ranks, clear of the boxes.
    graph.setEdge(edge.source, edge.target, { ...LABEL, labelpos: 'c' }, edgeId(edge));
  }
  layout(graph);
  const boxes = new Map<string, Point>();
  for (const pipeline of pipelines) {
    const { x, y } = graph.node(pipeline.id);
    boxes.set(pipeline.id, { x: x - BOX.width / 2, y: y - BOX.height / 2 });
  }
  const routes = new Map<string, Route>();
  for (const edge of drawn) {
    const routed = graph.edge({ v: edge.source, w: edge.target, name: edgeId(edge) });
    routes.set(edgeId(edge), {
      points: routed.points.map(({ x, y }: Point) => ({ x, y })),
      label: { x: routed.x, y: routed.y },
    });
  }
  return { boxes, routes };
}

/** An SVG path through `points`, its corners rounded by curving through each segment's middle. */
export function smoothPath(points: readonly Point[]): string {
  if (points.length < 2) {
    return '';
  }
  const parts = [`M ${points[0].x} ${points[0].y}`];
  for (let i = 1; i < points.length - 1; i++) {
    const next = points[i + 1];
    const middle = { x: (points[i].x + next.x) / 2, y: (points[i].y + next.y) / 2 };
    parts.push(`Q ${points[i].x} ${points[i].y} ${middle.x} ${middle.y}`);
  }
  const last = points[points.length - 1];
  parts.push(`L ${last.x} ${last.y}`);
  return parts.join(' ');
}
