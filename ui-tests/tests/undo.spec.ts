import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';

import {
  openFromSidebar,
  openPipeline,
  pageErrors,
  rest,
  unique,
  type RestGraph,
  flowNode,
  menu,
} from './fusionpipe';

// Room for the canvas beside the sidebar and the node inspector.
test.use({ viewport: { width: 1440, height: 900 } });

/** What a person sees of a pipeline: nodes (tag, lock, place), edges by tags, groups. */
function shape(graph: RestGraph): string {
  const tags = Object.fromEntries(graph.nodes.map((n) => [n.id, n.tag]));
  return JSON.stringify({
    nodes: graph.nodes
      .map((n) => [n.tag, n.locked, Math.round(n.position.x), Math.round(n.position.y), !!n.group])
      .sort(),
    edges: graph.edges.map((e) => `${tags[e.source]}->${tags[e.target]}:${e.slot}`).sort(),
    groups: graph.groups.map((g) => g.tag).sort(),
  });
}

async function open(page: IJupyterLabPageFixture, pipeline: { id: string; tag: string }) {
  await openFromSidebar(page, `${pipeline.tag}-project`, new RegExp(`^\\s*${pipeline.tag}\\s`));
  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await expect(canvas.getByTestId('fp-canvas')).toBeVisible();
  return canvas;
}

async function answer(page: IJupyterLabPageFixture, text: string, button = 'OK') {
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input').fill(text);
  await dialog.getByRole('button', { name: button }).click();
  await expect(dialog).toHaveCount(0);
}

test('undo and redo every kind of edit with keys and buttons, also after a reload', async ({
  page,
  request,
  browser,
  baseURL,
}) => {
  const api = rest(request);
  const tag = unique('undo');
  const { pipeline, nodes } = await api.newPipeline(`${tag}-project`, tag, [
    { tag: 'load', position: { x: 0, y: 0 } },
    { tag: 'fit', position: { x: 320, y: 0 } },
  ]);
  const [load, fit] = nodes.map((n) => n.id as string);
  const errors = pageErrors(page);
  const canvas = await open(page, pipeline);
  const undo = canvas.getByTestId('fp-undo');
  const redo = canvas.getByTestId('fp-redo');
  const snapshot = async () => shape(await api.graph(pipeline.id));
  // The nodes made over REST are this user's edits too: the stack names the last one.
  await expect(undo).toHaveAttribute('title', "Undo new node 'fit' (Ctrl+Z)");
  await expect(redo).toBeDisabled();

  // Each edit through the panel, with the label its undo carries.
  const edits: [string, () => Promise<void>][] = [
    [
      "rename of node 'fit'",
      async () => {
        await menu(page, flowNode(canvas, fit), 'Rename');
        await answer(page, 'fit2');
      },
    ],
    ['new node', () => canvas.getByTestId('fp-add-node').click()],
    [
      "new edge 'load' → 'fit2'",
      async () => {
        const from = (await flowNode(canvas, load)
          .locator('.svelte-flow__handle.source')
          .boundingBox())!;
        const to = (await flowNode(canvas, fit)
          .locator('.svelte-flow__handle.target')
          .boundingBox())!;
        await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
        await page.mouse.down();
        await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
        await page.mouse.up();
      },
    ],
    ["lock of node 'fit2'", () => menu(page, flowNode(canvas, fit), 'Lock')],
    [
      "move of node 'load'",
      async () => {
        const box = (await flowNode(canvas, load).boundingBox())!;
        await page.mouse.move(box.x + 20, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + 20, box.y + 160, { steps: 10 });
        await page.mouse.up();
      },
    ],
    ['auto layout', () => canvas.getByTestId('fp-auto-layout').click()],
    [
      "new group 'pair'",
      async () => {
        await flowNode(canvas, load).click();
        await flowNode(canvas, fit).click({ modifiers: ['Shift'] });
        await menu(page, flowNode(canvas, fit), 'Group selection');
        await answer(page, 'pair');
      },
    ],
    [
      "copy of node 'load'",
      async () => {
        // A click on the empty pane first: the menu of a selected node acts on the selection.
        await canvas.getByTestId('fp-canvas').click({ position: { x: 5, y: 5 } });
        await menu(page, flowNode(canvas, load), 'Duplicate here');
      },
    ],
    [
      "deletion of node 'load'",
      async () => {
        await menu(page, flowNode(canvas, load), 'Delete');
        await answer(page, 'load', 'Delete');
      },
    ],
  ];
  const states = [await snapshot()];
  for (const [label, edit] of edits) {
    await edit();
    await expect.poll(snapshot, { message: label }).not.toBe(states[states.length - 1]);
    states.push(await snapshot());
    await expect(undo).toHaveAttribute('title', new RegExp(`^Undo ${label}`));
  }
  await page.screenshot({ path: 'screenshots/undo-toolbar.png' });

  // Undone one by one, by Ctrl+Z on the canvas and by the button in turn: each step back to
  // exactly what was there before.
  for (let index = edits.length - 1; index >= 0; index--) {
    const [label] = edits[index];
    if (index % 2) {
      await canvas.getByTestId('fp-canvas').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Control+z');
    } else {
      await undo.click();
    }
    await expect.poll(snapshot, { message: `undo of ${label}` }).toBe(states[index]);
    await expect(redo).toHaveAttribute('title', new RegExp(`^Redo ${label}`));
  }
  await expect(canvas.getByTestId('fp-node')).toHaveCount(2);
  await expect(flowNode(canvas, fit)).toContainText('fit');
  await page.screenshot({ path: 'screenshots/undo-all-undone.png' });

  // Redone by Ctrl+Shift+Z, Ctrl+Y and the button.
  const keys = ['Control+Shift+Z', 'Control+y', ''];
  for (let index = 0; index < edits.length; index++) {
    const key = keys[index % 3];
    if (key) {
      await canvas.getByTestId('fp-canvas').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press(key);
    } else {
      await redo.click();
    }
    await expect.poll(snapshot, { message: `redo of ${edits[index][0]}` }).toBe(states[index + 1]);
  }
  await expect(redo).toBeDisabled();

  // The stack is the server's: in a freshly loaded lab (a reload, a new browser) it is still
  // there. A workspace of its own, so the lab restores nothing of this one.
  const fresh = await browser.newPage();
  await fresh.goto(`${baseURL}/lab/workspaces/undo-reload?reset`);
  await fresh.waitForFunction(() =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (window as any).jupyterapp?.commands.hasCommand('fusionpipe:open-pipeline'),
  );
  await openPipeline(fresh, pipeline.id);
  const again = fresh.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await expect(again.getByTestId('fp-undo')).toHaveAttribute(
    'title',
    "Undo deletion of node 'load' (Ctrl+Z)",
  );
  await again.getByTestId('fp-undo').click();
  await expect.poll(snapshot).toBe(states[edits.length - 1]);
  await expect(again.getByTestId('fp-node')).toHaveCount(4);
  await again.getByTestId('fp-canvas').click({ position: { x: 5, y: 5 } });
  await fresh.keyboard.press('Control+z');
  await expect.poll(snapshot).toBe(states[edits.length - 2]);
  await fresh.screenshot({ path: 'screenshots/undo-after-reload.png' });
  await fresh.close();
  expect(errors).toEqual([]);
});

test('an undo is refused when a colleague renamed the node since', async ({ page, request }) => {
  const api = rest(request);
  const bob = rest(request, 'bob');
  const tag = unique('undo-refused');
  const { pipeline, nodes } = await api.newPipeline(`${tag}-project`, tag, [
    { tag: 'fit', position: { x: 0, y: 0 } },
  ]);
  const fit = nodes[0].id as string;
  const errors = pageErrors(page);
  const canvas = await open(page, pipeline);
  await menu(page, flowNode(canvas, fit), 'Rename');
  await answer(page, 'fit-mine');
  await expect(flowNode(canvas, fit)).toContainText('fit-mine');

  // Bob, in his own session, renames it again: the canvas follows the live event.
  await bob.patch(`pipelines/${pipeline.id}/nodes/${fit}`, { tag: 'fit-bob' });
  await expect(flowNode(canvas, fit)).toContainText('fit-bob');

  await canvas.getByTestId('fp-undo').click();
  const refusal = page.locator('.Toastify__toast').filter({
    hasText: "Cannot undo rename of node 'fit': node 'fit-mine' was renamed by bob since.",
  });
  // Wholly in view, its slide-in over, before the picture is taken.
  await expect(refusal).toBeInViewport({ ratio: 1 });
  await page.screenshot({ path: 'screenshots/undo-refused.png' });
  // Nothing changed, and the edit stays on the stack for when bob is done.
  expect((await api.graph(pipeline.id)).nodes[0].tag).toBe('fit-bob');
  await expect(canvas.getByTestId('fp-undo')).toHaveAttribute(
    'title',
    "Undo rename of node 'fit' (Ctrl+Z)",
  );
  expect(errors).toEqual([]);
});
