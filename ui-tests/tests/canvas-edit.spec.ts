import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { writeFileSync } from 'fs';
import { join } from 'path';

import {
  openFromSidebar,
  pageErrors,
  rest,
  unique,
  type RestGraph,
  flowNode,
  drag,
  menu,
} from './fusionpipe';

// Room for the canvas beside the sidebar and the node inspector.
test.use({ viewport: { width: 1440, height: 900 } });

/** A project + pipeline named after `name` (made unique), with the given nodes where they say. */
async function made(
  api: ReturnType<typeof rest>,
  name: string,
  nodes: { tag: string; x: number; y: number }[],
) {
  const tag = unique(name);
  const specs = nodes.map(({ tag, x, y }) => ({ tag, position: { x, y } }));
  const { project, pipeline, nodes: ids } = await api.newPipeline(`${tag}-project`, tag, specs);
  return { project, pipeline, ids: ids.map((node) => node.id as string) };
}

/** Opens the pipeline from the sidebar; returns its canvas, failing on any page error. */
async function open(page: IJupyterLabPageFixture, pipeline: { id: string; tag: string }) {
  const name = pipeline.tag;
  const errors = pageErrors(page);
  // The pipeline's name, then the owner: not a longer name that starts the same.
  await openFromSidebar(page, `${name}-project`, new RegExp(`^\\s*${name}\\s`));
  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await expect(canvas.getByTestId('fp-canvas')).toBeVisible();
  return { canvas, errors };
}

function toast(page: IJupyterLabPageFixture, text: string | RegExp): Locator {
  return page.locator('.Toastify__toast').filter({ hasText: text });
}

test('add a node, connect by dragging, refuse a cycle, lay out automatically', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, ids } = await made(api, 'edit-connect', [
    { tag: 'load', x: 0, y: 0 },
    { tag: 'fit', x: 300, y: 0 },
  ]);
  const [load, fit] = ids;
  const { canvas, errors } = await open(page, pipeline);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(2);

  await canvas.getByTestId('fp-node-kind').selectOption('shell');
  await canvas.getByTestId('fp-add-node').click();
  await expect(canvas.getByTestId('fp-node')).toHaveCount(3);
  const added = (await api.graph(pipeline.id)).nodes.filter((n) => !ids.includes(n.id));
  expect(added.map((n) => n.kind)).toEqual(['shell']);
  await expect(flowNode(canvas, added[0].id)).toBeInViewport();
  // Put in view but beside the two nodes there, not on top of them.
  const boxes = await Promise.all(ids.map((id) => flowNode(canvas, id).boundingBox()));
  const placed = (await flowNode(canvas, added[0].id).boundingBox())!;
  for (const box of boxes) {
    const apart =
      placed.x >= box!.x + box!.width ||
      box!.x >= placed.x + placed.width ||
      placed.y >= box!.y + box!.height ||
      box!.y >= placed.y + placed.height;
    expect(apart).toBe(true);
  }

  // load -> fit, drawn from the bottom handle of one to the top handle of the other.
  await drag(
    page,
    flowNode(canvas, load).locator('.svelte-flow__handle.source'),
    flowNode(canvas, fit).locator('.svelte-flow__handle.target'),
  );
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(1);
  await expect(canvas.locator('.svelte-flow__edge-label').getByText('01')).toBeVisible();
  const edges = (await api.graph(pipeline.id)).edges;
  expect(edges.map((e) => [e.source, e.target, e.slot])).toEqual([[load, fit, '01']]);

  // fit -> load would close a cycle: the server says so and the canvas keeps one edge.
  await drag(
    page,
    flowNode(canvas, fit).locator('.svelte-flow__handle.source'),
    flowNode(canvas, load).locator('.svelte-flow__handle.target'),
  );
  await expect(toast(page, 'makes a cycle: ')).toBeVisible();
  await page.screenshot({ path: 'screenshots/canvas-edit-cycle.png' });
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(1);
  expect((await api.graph(pipeline.id)).edges).toHaveLength(1);

  // The pane's menu adds a node where it was opened.
  const flowBox = (await canvas.locator('.svelte-flow').boundingBox())!;
  await page.mouse.click(flowBox.x + 60, flowBox.y + 60, { button: 'right' });
  await page.getByTestId('fp-context-menu').getByRole('menuitem', { name: 'notebook' }).click();
  await expect(canvas.getByTestId('fp-node')).toHaveCount(4);
  const notebook = (await api.graph(pipeline.id)).nodes.find((n) => n.kind === 'notebook')!;
  const box = (await flowNode(canvas, notebook.id).boundingBox())!;
  expect(Math.abs(box.x - (flowBox.x + 60))).toBeLessThan(30);

  // Auto layout puts the child below its parent, saving every position in one request.
  const saves: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/positions')) {
      saves.push(r.url());
    }
  });
  await canvas.getByTestId('fp-auto-layout').click();
  // Enabled again once the layout is saved and the view has moved to show it.
  await expect(canvas.getByTestId('fp-auto-layout')).toBeEnabled();
  await expect
    .poll(async () => {
      const nodes = (await api.graph(pipeline.id)).nodes;
      const y = (id: string) => nodes.find((n) => n.id === id)!.position.y;
      return y(fit) - y(load);
    })
    .toBeGreaterThan(60);
  expect(saves).toHaveLength(1);
  const loadBox = (await flowNode(canvas, load).boundingBox())!;
  const fitBox = (await flowNode(canvas, fit).boundingBox())!;
  expect(fitBox.y).toBeGreaterThan(loadBox.y + loadBox.height);
  await page.screenshot({ path: 'screenshots/canvas-edit-layout.png' });

  // An edge's menu deletes it, after asking; its slot label opens that menu too.
  // (The label lets the pointer through by design, so the mouse is pressed where it is drawn.)
  const label = (await canvas.locator('.svelte-flow__edge-label').getByText('01').boundingBox())!;
  await page.mouse.click(label.x + label.width / 2, label.y + label.height / 2, {
    button: 'right',
  });
  await page.getByTestId('fp-context-menu').getByRole('menuitem', { name: 'Delete edge' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(0);
  expect((await api.graph(pipeline.id)).edges).toEqual([]);
  expect(errors).toEqual([]);
});

test('select several nodes and delete them after a typed confirmation', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, ids } = await made(api, 'edit-delete', [
    { tag: 'alpha', x: 0, y: 0 },
    { tag: 'beta', x: 260, y: 0 },
    { tag: 'gamma', x: 520, y: 0 },
  ]);
  const [alpha, beta, gamma] = ids;
  await api.post(`pipelines/${pipeline.id}/edges`, { source: alpha, target: beta });
  const { canvas, errors } = await open(page, pipeline);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(3);

  // Ctrl+A selects everything, Escape nothing.
  await flowNode(canvas, alpha).click();
  await page.keyboard.press('Control+a');
  await expect(canvas.locator('.svelte-flow__node.selected')).toHaveCount(3);
  await page.keyboard.press('Escape');
  await expect(canvas.locator('.svelte-flow__node.selected')).toHaveCount(0);

  await flowNode(canvas, alpha).click();
  await flowNode(canvas, beta).click({ modifiers: ['Shift'] });
  await expect(canvas.locator('.svelte-flow__node.selected')).toHaveCount(2);

  // Cancelled: everything stays.
  await page.keyboard.press('Delete');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('alpha, beta');
  await page.screenshot({ path: 'screenshots/canvas-edit-delete-dialog.png' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(3);
  expect((await api.graph(pipeline.id)).nodes).toHaveLength(3);

  // A wrong word deletes nothing either; the selection outlives both refusals.
  await expect(canvas.locator('.svelte-flow__node.selected')).toHaveCount(2);
  await page.keyboard.press('Delete');
  await dialog.locator('input').fill('alpha');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(toast(page, 'Nothing was deleted')).toBeVisible();
  expect((await api.graph(pipeline.id)).nodes).toHaveLength(3);
  await expect(canvas.locator('.svelte-flow__node.selected')).toHaveCount(2);

  await page.keyboard.press('Delete');
  await dialog.locator('input').fill('delete');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(canvas.getByTestId('fp-node')).toHaveCount(1);
  const graph = await api.graph(pipeline.id);
  expect(graph.nodes.map((n) => n.id)).toEqual([gamma]);
  expect(graph.edges).toEqual([]);
  expect(errors).toEqual([]);
});

test('node context menu: rename, set completed on two nodes, lock', async ({ page, request }) => {
  const api = rest(request);
  const { pipeline, ids } = await made(api, 'edit-menu', [
    { tag: 'one', x: 0, y: 0 },
    { tag: 'two', x: 260, y: 0 },
  ]);
  const [one, two] = ids;
  const { canvas, errors } = await open(page, pipeline);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(2);

  await menu(page, flowNode(canvas, one), 'Rename');
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input').fill('first');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(flowNode(canvas, one)).toContainText('first');
  expect((await api.graph(pipeline.id)).nodes.find((n) => n.id === one)!.tag).toBe('first');

  await flowNode(canvas, one).click();
  await flowNode(canvas, two).click({ modifiers: ['Shift'] });
  await flowNode(canvas, two).click({ button: 'right' });
  await expect(page.getByTestId('fp-context-menu')).toBeVisible();
  await page.screenshot({ path: 'screenshots/canvas-edit-node-menu.png' });
  await page
    .getByTestId('fp-context-menu')
    .getByRole('menuitem', { name: 'Set completed (2 nodes)' })
    .click();
  await expect(canvas.locator('[data-status="completed"]')).toHaveCount(2);

  await menu(page, flowNode(canvas, one), 'Lock');
  await expect(canvas.getByLabel('locked')).toHaveCount(2);
  const nodes = (await api.graph(pipeline.id)).nodes;
  expect(nodes.map((n) => [n.status, n.locked])).toEqual([
    ['completed', true],
    ['completed', true],
  ]);

  // Escape closes a menu without doing anything.
  await flowNode(canvas, one).click({ button: 'right' });
  await expect(page.getByTestId('fp-context-menu')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('fp-context-menu')).toHaveCount(0);

  // In the dark theme the canvas and its menus are dark too.
  await page.theme.setDarkTheme();
  await expect(canvas.locator('.svelte-flow')).toHaveClass(/\bdark\b/);
  await flowNode(canvas, two).click({ button: 'right' });
  const background = await page
    .getByTestId('fp-context-menu')
    .evaluate((element) => getComputedStyle(element).backgroundColor);
  const [r, g, b] = background.match(/\d+/g)!.map(Number);
  expect(r + g + b).toBeLessThan(3 * 100);
  await page.screenshot({ path: 'screenshots/canvas-edit-dark-menu.png' });
  await page.keyboard.press('Escape');
  await page.theme.setLightTheme();
  expect(errors).toEqual([]);
});

test('group nodes, collapse and expand the group, delete it and keep its nodes', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, ids } = await made(api, 'edit-group', [
    { tag: 'source', x: 0, y: 0 },
    { tag: 'clean', x: 0, y: 200 },
    { tag: 'model', x: 260, y: 200 },
  ]);
  const [source, clean, model] = ids;
  await api.post(`pipelines/${pipeline.id}/edges`, { source, target: clean });
  await api.post(`pipelines/${pipeline.id}/edges`, { source, target: model });
  const { canvas, errors } = await open(page, pipeline);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(3);

  await flowNode(canvas, clean).click();
  await flowNode(canvas, model).click({ modifiers: ['Shift'] });
  await menu(page, flowNode(canvas, model), 'Group selection');
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input').fill('preparation');
  await dialog.getByRole('button', { name: 'OK' }).click();
  const group = canvas.getByTestId('fp-group');
  await expect(group).toContainText('preparation');
  await expect(group).toContainText('2 nodes');
  let graph = await api.graph(pipeline.id);
  expect(graph.groups.map((g) => g.tag)).toEqual(['preparation']);
  // The frame holds its members: nothing moved when grouped.
  const frame = (await group.boundingBox())!;
  for (const id of [clean, model]) {
    const box = (await flowNode(canvas, id).boundingBox())!;
    expect(box.x).toBeGreaterThan(frame.x);
    expect(box.y + box.height).toBeLessThan(frame.y + frame.height);
  }
  await page.screenshot({ path: 'screenshots/canvas-edit-group.png' });

  // Dragged by its title bar, the group takes its members along, and the server has them moved.
  const at = (g: RestGraph, id: string) => g.nodes.find((n) => n.id === id)!.position;
  const head = (await group.locator('.fp-group-head').boundingBox())!;
  await page.mouse.move(head.x + head.width / 2, head.y + head.height / 2);
  await page.mouse.down();
  await page.mouse.move(head.x + head.width / 2 - 40, head.y + head.height / 2 - 30, {
    steps: 10,
  });
  await page.mouse.up();
  await expect
    .poll(async () => at(await api.graph(pipeline.id), clean).y)
    .toBeLessThan(at(graph, clean).y - 10);
  const moved = await api.graph(pipeline.id);
  const dx = at(moved, clean).x - at(graph, clean).x;
  const dy = at(moved, clean).y - at(graph, clean).y;
  expect(at(moved, model)).toEqual({ x: at(graph, model).x + dx, y: at(graph, model).y + dy });
  expect(at(moved, source)).toEqual(at(graph, source));
  graph = moved;

  // Selected, the group shows resize handles; its new size is saved. (The right edge, not a corner:
  // the bottom-right corner may lie under the minimap.)
  const before = graph.groups[0].size;
  await group.locator('.fp-group-head').click();
  const handle = (await canvas.locator('.svelte-flow__resize-control.line.right').boundingBox())!;
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(handle.x + 80, handle.y, { steps: 10 });
  await page.mouse.up();
  await expect
    .poll(async () => (await api.graph(pipeline.id)).groups[0].size.width)
    .toBeGreaterThan(before.width + 40);
  expect((await api.graph(pipeline.id)).groups[0].size.height).toBe(before.height);

  await group.getByTestId('fp-group-toggle').click();
  await expect(group).toHaveAttribute('data-collapsed', 'true');
  await expect(flowNode(canvas, clean)).toBeHidden();
  await expect(flowNode(canvas, model)).toBeHidden();
  // The two edges into the group are drawn as one, to the group's box.
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(1);
  await expect(canvas.locator('.svelte-flow__edge-label').getByText('01')).toBeVisible();
  expect((await api.graph(pipeline.id)).groups[0].collapsed).toBe(true);
  await page.screenshot({ path: 'screenshots/canvas-edit-group-collapsed.png' });

  await group.getByTestId('fp-group-toggle').click();
  await expect(group).toHaveAttribute('data-collapsed', 'false');
  await expect(flowNode(canvas, clean)).toBeVisible();
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(2);

  await menu(page, group.locator('.fp-group-head'), 'Delete group');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(group).toHaveCount(0);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(3);
  graph = await api.graph(pipeline.id);
  expect(graph.groups).toEqual([]);
  expect(graph.nodes.map((n) => n.group)).toEqual([null, null, null]);
  expect(errors).toEqual([]);
});

test('run the selected node, watch its time tick, kill it', async ({ page, request }) => {
  const api = rest(request);
  const { pipeline, ids } = await made(api, 'edit-run', [
    { tag: 'sleeper', x: 0, y: 0 },
    { tag: 'idle', x: 260, y: 0 },
  ]);
  const [sleeper, idle] = ids;
  // The data folder lies outside the Jupyter root: write the node's code straight to disk.
  const folder = (await api.graph(pipeline.id)).nodes.find((n) => n.id === sleeper)!.folder;
  writeFileSync(join(folder, 'code', 'main.py'), 'import time\ntime.sleep(60)\n');
  const { canvas, errors } = await open(page, pipeline);

  await expect(canvas.getByTestId('fp-run-selected')).toBeDisabled();
  await flowNode(canvas, sleeper).click();
  await canvas.getByTestId('fp-run-selected').click();
  const node = flowNode(canvas, sleeper);
  await expect(node.getByTestId('fp-node')).toHaveAttribute('data-status', 'running', {
    timeout: 30000,
  });
  const elapsed = node.getByTestId('fp-elapsed');
  await expect(elapsed).toHaveText(/^00:0\d$/);
  const first = await elapsed.textContent();
  await expect.poll(() => elapsed.textContent(), { timeout: 5000 }).not.toBe(first);
  // Only the selected node runs.
  await expect(flowNode(canvas, idle).getByTestId('fp-node')).toHaveAttribute(
    'data-status',
    'ready',
  );
  await page.screenshot({ path: 'screenshots/canvas-edit-running.png' });

  await menu(page, node, 'Kill');
  await expect(node.getByTestId('fp-node')).toHaveAttribute('data-status', 'failed', {
    timeout: 30000,
  });
  await expect(elapsed).toHaveCount(0);
  expect((await api.graph(pipeline.id)).nodes.find((n) => n.id === sleeper)!.status).toBe('failed');
  expect(errors).toEqual([]);
});

test('duplicate and reference nodes into another pipeline, detach, branch', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { project, pipeline, ids } = await made(api, 'edit-copy', [
    { tag: 'raw', x: 0, y: 0 },
    { tag: 'derived', x: 0, y: 200 },
  ]);
  const [raw, derived] = ids;
  await api.post(`pipelines/${pipeline.id}/edges`, { source: raw, target: derived });
  const other = await api.post('pipelines', {
    project_id: project.id,
    tag: `${pipeline.tag}-target`,
  });
  const { canvas, errors } = await open(page, pipeline);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(2);

  await menu(page, flowNode(canvas, raw), 'Duplicate here');
  await expect(canvas.getByTestId('fp-node')).toHaveCount(3);

  // `derived` alone could not go: its parent is neither copied nor in the target.
  await menu(page, flowNode(canvas, derived), 'Duplicate into pipeline');
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label: `${other.tag} — ${other.id}` });
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(toast(page, 'neither copied nor in')).toBeVisible();
  await expect(toast(page, 'Copied into')).toHaveCount(0);

  await menu(page, flowNode(canvas, raw), 'Duplicate into pipeline');
  await dialog.locator('select').selectOption({ label: `${other.tag} — ${other.id}` });
  await page.screenshot({ path: 'screenshots/canvas-edit-pick-pipeline.png' });
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(toast(page, `Copied into pipeline ${other.tag}`)).toBeVisible();
  let target = await api.graph(other.id);
  expect(target.nodes.map((n) => n.tag)).toEqual(['raw']);
  expect(target.nodes[0].id).not.toBe(raw);

  await menu(page, flowNode(canvas, raw), 'Reference into pipeline');
  await dialog.locator('select').selectOption({ label: `${other.tag} — ${other.id}` });
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(flowNode(canvas, raw).getByLabel('referenced')).toBeVisible();
  target = await api.graph(other.id);
  expect(target.nodes.map((n) => n.id)).toContain(raw);

  // A shared node can be made private again: it gets a new id here.
  await menu(page, flowNode(canvas, raw), 'Detach');
  await expect(flowNode(canvas, raw)).toHaveCount(0);
  const mine = await api.graph(pipeline.id);
  expect(mine.nodes.filter((n) => n.tag === 'raw')).toHaveLength(2);

  await menu(page, flowNode(canvas, derived), 'Branch from here');
  const branched = toast(page, /New pipeline/);
  await expect(branched).toBeVisible();
  const known = new Set([pipeline.id, other.id]);
  const branch = (await api.pipelines(project.id)).find((p) => !known.has(p.id));
  expect(branch).toBeDefined();
  // The notification opens the new pipeline in its own tab.
  await branched.getByRole('button', { name: 'Open' }).click();
  await expect(page.locator(`#fusionpipe-pipeline-${branch!.id}`)).toBeVisible();
  expect(errors).toEqual([]);
});
