// What the canvas's toolbar, keys and menus do: the questions to ask first (dialogs), then the
// PipelineModel call. Kept out of the components so each stays short.
import { Notification } from '@jupyterlab/apputils';
import { getContext, setContext, tick } from 'svelte';

import type { Group, NodeKind, Pipeline, Size, XY } from '../../api';
import { askChoice, askText, confirm, confirmTyped } from '../common/dialogs';
import type { PipelineModel } from '../../pipelineModel';
import {
  absolutePositions,
  isGroupNode,
  isPipelineNode,
  type FlowEdge,
  type FlowNode,
  type GroupFlowNode,
  type PipelineFlowNode,
} from './elements';
import { autoLayout, DEFAULT_NODE_SIZE, freeSpot, frameAround } from './layout';

/** What the actions need from the Svelte Flow instance on screen. */
export interface FlowAccess {
  nodes(): readonly FlowNode[];
  /** Absolute position and measured size of a drawn node. */
  box(nodeId: string): (XY & Size) | undefined;
  /** The flow coordinates of the middle of the visible canvas. */
  centre(): XY;
  /** Resolves when the view has finished moving. */
  fitView(): Promise<unknown>;
}

/** About the size a new node is drawn at (its id makes it wider than a measured-free guess). */
const NEW_NODE_SIZE: Size = { width: 240, height: 70 };

/** Another pipeline of the project, to copy or share nodes into. */
async function pickPipeline(
  title: string,
  pipelines: readonly Pipeline[],
): Promise<Pipeline | null> {
  if (!pipelines.length) {
    Notification.info('This project has no other pipeline to copy into.', { autoClose: 5000 });
    return null;
  }
  // Tags are unique, but the id makes the choice unambiguous for pipelines without one.
  const choices = pipelines.map((pipeline) => ({
    label: `${pipeline.tag || '(no tag)'} — ${pipeline.id}`,
    value: pipeline,
  }));
  return askChoice(title, 'Target pipeline', choices, 'OK');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export class CanvasActions {
  constructor(
    readonly model: PipelineModel,
    private readonly flow: FlowAccess,
  ) {}

  /** The nodes an action on `node` applies to: the whole selection if it is part of it. */
  targets(node: PipelineFlowNode): string[] {
    if (!node.selected) {
      return [node.id];
    }
    return this.flow
      .nodes()
      .filter((n) => n.selected && isPipelineNode(n))
      .map((n) => n.id);
  }

  async fitView(): Promise<void> {
    await this.flow.fitView();
  }

  /** The drawn nodes with these ids. */
  drawn(ids: readonly string[]): FlowNode[] {
    const wanted = new Set(ids);
    return this.flow.nodes().filter((node) => wanted.has(node.id));
  }

  async addNode(kind: NodeKind, at?: XY): Promise<void> {
    const wanted = at ?? this.centre();
    const taken = (this.model.graph?.nodes ?? [])
      .map((node) => this.flow.box(node.id))
      .filter((box) => box !== undefined);
    await this.model.addNode(kind, freeSpot(wanted, NEW_NODE_SIZE, taken));
  }

  /** The middle of the view, moved so that a new node is centred there, not hanging from it. */
  private centre(): XY {
    const { x, y } = this.flow.centre();
    return {
      x: Math.round(x - NEW_NODE_SIZE.width / 2),
      y: Math.round(y - NEW_NODE_SIZE.height / 2),
    };
  }

  /**
   * Deletes what the user chose, after asking: nodes need a typed confirmation because their
   * folders may go with them. Edges into or out of deleted nodes go with their nodes.
   */
  async delete(nodes: readonly FlowNode[], edges: readonly FlowEdge[]): Promise<void> {
    const doomed = nodes.filter(isPipelineNode);
    const groups = nodes.filter(isGroupNode);
    const gone = new Set(doomed.map((node) => node.id));
    const links = edges.filter(
      (edge) => edge.data?.edge && !gone.has(edge.source) && !gone.has(edge.target),
    );
    if (!doomed.length && !groups.length && !links.length) {
      return;
    }
    const parts = [
      doomed.length && plural(doomed.length, 'node'),
      links.length && plural(links.length, 'edge'),
      groups.length && plural(groups.length, 'group'),
    ].filter(Boolean);
    const what = parts.join(', ');
    let agreed: boolean;
    if (doomed.length) {
      const tags = doomed.map((node) => node.data.node.tag || node.id);
      agreed = await confirmTyped(
        `Delete ${what}?`,
        [
          `Nodes: ${tags.join(', ')}.`,
          'A node folder is removed when no other pipeline uses the node; deleted nodes wait ' +
            'in Recently deleted (the sidebar) to be restored.',
        ],
        doomed.length === 1 ? [tags[0], 'delete'] : ['delete'],
      );
    } else {
      const note = groups.length ? ' Grouped nodes stay on the canvas.' : '';
      agreed = await confirm(
        `Delete ${what}?`,
        `Delete ${what} from this pipeline?${note}`,
        'Delete',
      );
    }
    if (!agreed) {
      return;
    }
    for (const group of groups) {
      await this.model.deleteGroup(group.id);
    }
    if (links.length) {
      await this.model.deleteEdges(links.map((edge) => edge.id));
    }
    if (doomed.length) {
      await this.model.deleteNodes([...gone]);
    }
  }

  async renameNode(node: PipelineFlowNode): Promise<void> {
    const tag = await askText('Rename node', 'New tag', node.data.node.tag);
    if (tag !== null && tag !== node.data.node.tag) {
      await this.model.renameNode(node.id, tag);
    }
  }

  /** A new group around the given nodes, named by the user. */
  async group(nodeIds: readonly string[]): Promise<void> {
    const nodes = this.model.graph?.nodes.filter((node) => nodeIds.includes(node.id)) ?? [];
    const grouped = nodes.filter((node) => node.group);
    if (grouped.length) {
      const tags = grouped.map((node) => node.tag).join(', ');
      Notification.warning(`Already in a group: ${tags}. Delete that group first.`, {
        autoClose: 6000,
      });
      return;
    }
    if (!nodes.length) {
      return;
    }
    const tag = await askText('Group nodes', 'Group name');
    if (tag === null) {
      return;
    }
    const boxes = nodes.map((node) => ({
      ...node.position,
      ...(this.flow.box(node.id) ?? DEFAULT_NODE_SIZE),
    }));
    await this.model.createGroup(
      nodes.map((node) => node.id),
      tag,
      frameAround(boxes),
    );
  }

  async renameGroup(group: Group): Promise<void> {
    const tag = await askText('Rename group', 'Group name', group.tag);
    if (tag !== null && tag !== group.tag) {
      await this.model.updateGroup(group.id, { tag });
    }
  }

  async toggleGroup(group: Group): Promise<void> {
    await this.model.updateGroup(group.id, { collapsed: !group.collapsed });
  }

  async deleteGroup(group: GroupFlowNode): Promise<void> {
    await this.delete([group], []);
  }

  async resizeGroup(groupId: string, box: XY & Size): Promise<void> {
    const { x, y, width, height } = box;
    await this.model.updateGroup(groupId, { position: { x, y }, size: { width, height } });
  }

  async duplicateInto(nodeIds: readonly string[], withData: boolean): Promise<void> {
    const data = withData ? ' with data' : '';
    const target = await pickPipeline(
      `Duplicate ${plural(nodeIds.length, 'node')}${data} into…`,
      await this.model.otherPipelines(),
    );
    if (target && (await this.model.duplicate(nodeIds, target.id, withData))) {
      Notification.success(`Copied into pipeline ${target.tag || target.id}.`, { autoClose: 4000 });
    }
  }

  async referenceInto(nodeIds: readonly string[]): Promise<void> {
    const target = await pickPipeline(
      `Reference ${plural(nodeIds.length, 'node')} into…`,
      await this.model.otherPipelines(),
    );
    if (target && (await this.model.reference(nodeIds, target.id))) {
      Notification.success(`Shared with pipeline ${target.tag || target.id}.`, { autoClose: 4000 });
    }
  }

  async branch(nodeId: string): Promise<void> {
    const pipeline = await this.model.branch(nodeId);
    if (pipeline) {
      Notification.success(`New pipeline ${pipeline.tag || pipeline.id}.`, {
        autoClose: 8000,
        actions: [{ label: 'Open', callback: () => this.model.app.openPipeline(pipeline.id) }],
      });
    }
  }

  /** Lays the whole pipeline out again and saves it: one request for every node position. */
  async autoLayout(): Promise<void> {
    const graph = this.model.graph;
    if (!graph?.nodes.length) {
      return;
    }
    const sizeOf = (id: string): Size => {
      const box = this.flow.box(id);
      return box && box.width ? box : DEFAULT_NODE_SIZE;
    };
    const { positions, groups } = autoLayout(graph, sizeOf);
    await this.model.autoLayout(positions, groups);
    // The new layout may lie far from the old view: show it once Svelte Flow has drawn it.
    await tick();
    await this.fitView();
  }

  /** After a drag: node positions in one request, and the box of each group that moved. */
  async saveDrag(moved: readonly FlowNode[]): Promise<void> {
    const { nodes, groups } = absolutePositions(moved, this.flow.nodes());
    if (Object.keys(nodes).length || Object.keys(groups).length) {
      const boxes = Object.fromEntries(
        Object.entries(groups).map(([id, position]) => [id, { position }]),
      );
      await this.model.savePositions(nodes, boxes);
    }
  }
}

const KEY = Symbol('fusionpipe-canvas-actions');

/** Lets node components (groups: rename, collapse, resize) reach the actions. */
export function provideActions(actions: CanvasActions): void {
  setContext(KEY, actions);
}

export function useActions(): CanvasActions {
  return getContext<CanvasActions>(KEY);
}
