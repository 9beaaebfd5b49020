// The lineage graph's layout, computed by dagre: parents above their children. Pure.
import { Graph, layout } from '@dagrejs/dagre';

import type { Pipeline, ProjectGraph } from '../../api';

export const BOX = { width: 200, height: 64 };

export type LineageEdge = ProjectGraph['edges'][number];

/**
 * branch, duplicate or merge. The server sends it as `relation`, while the client's type names
 * it `kind`: read whichever is there.
 */
export function edgeKind(edge: LineageEdge): string {
  return (edge as LineageEdge & { relation?: string }).relation ?? edge.kind;
}

/** Top-left corner of every pipeline's box, by pipeline id. */
export function layoutLineage(
  pipelines: readonly Pipeline[],
  edges: readonly LineageEdge[],
): Map<string, { x: number; y: number }> {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  for (const pipeline of pipelines) {
    graph.setNode(pipeline.id, { ...BOX });
  }
  const known = new Set(pipelines.map((p) => p.id));
  for (const edge of edges) {
    if (known.has(edge.source) && known.has(edge.target)) {
      // The label takes room between the ranks, so dagre keeps it clear of the boxes.
      graph.setEdge(edge.source, edge.target, { width: 70, height: 18 }, edgeKind(edge));
    }
  }
  layout(graph);
  const positions = new Map<string, { x: number; y: number }>();
  for (const pipeline of pipelines) {
    const { x, y } = graph.node(pipeline.id);
    positions.set(pipeline.id, { x: x - BOX.width / 2, y: y - BOX.height / 2 });
  }
  return positions;
}
