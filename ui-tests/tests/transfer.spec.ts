import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { expandProject, menuEntry, rest, unique, type RestGraph } from './fusionpipe';

// Room for the canvas beside the sidebar.
test.use({ viewport: { width: 1440, height: 900 } });

/** The graph as a user sees it: tags, kinds, positions, slots and groups, never ids. */
function shape(graph: RestGraph) {
  const tags = new Map(graph.nodes.map((n) => [n.id, n.tag]));
  return {
    nodes: graph.nodes.map((n) => `${n.tag} ${n.kind} ${n.position.x},${n.position.y}`).sort(),
    edges: graph.edges
      .map((e) => `${tags.get(e.source)} -> ${tags.get(e.target)} [${e.slot}]`)
      .sort(),
    groups: graph.groups.map((g) => `${g.tag} ${g.collapsed}`).sort(),
  };
}

/** The sidebar's entry of a project, the sidebar opened once per test. */
async function projectItem(page: IJupyterLabPageFixture, id: string): Promise<Locator> {
  if (!(await page.sidebar.isTabOpen('fusionpipe-sidebar'))) {
    await page.sidebar.openTab('fusionpipe-sidebar');
  }
  return page.locator('#fusionpipe-sidebar').locator(`[data-testid="fp-project"][data-id="${id}"]`);
}

test('export a pipeline from the panel, import it into another project, same graph', async ({
  page,
  request,
}, testInfo) => {
  const api = rest(request);
  // load/raw feeds two nodes both tagged fit (a notebook and a shell), which feed plot.
  const nodes = [
    { tag: 'load/raw', kind: 'python', position: { x: 0, y: 0 } },
    { tag: 'fit', kind: 'notebook', position: { x: -140, y: 160 } },
    { tag: 'fit', kind: 'shell', position: { x: 140, y: 160 } },
    { tag: 'plot', kind: 'python', position: { x: 0, y: 320 } },
  ];
  const edges: [number, number][] = [
    [0, 1],
    [0, 2],
    [1, 3],
    [2, 3],
  ];
  const made = await api.newPipeline(unique('exporting'), unique('survey'), nodes, edges);
  const { project: source, pipeline } = made;
  const [, fit, again] = made.nodes;
  const target = await api.post('projects', { tag: unique('importing') });
  await api.post(`pipelines/${pipeline.id}/groups`, { node_ids: [fit.id, again.id], tag: 'fits' });

  // Export from the pipeline's menu in the sidebar: the browser downloads a zip.
  const project = await projectItem(page, source.id);
  await expandProject(project);
  const item = project.locator(`[data-testid="fp-pipeline"][data-id="${pipeline.id}"]`);
  const downloading = page.waitForEvent('download');
  await (await menuEntry(page, item, 'export')).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${pipeline.tag}.zip`);
  const zip = testInfo.outputPath('export.zip');
  await download.saveAs(zip);

  // Import from the other project's menu: a file picker, then the new pipeline opens.
  const other = await projectItem(page, target.id);
  const choosing = page.waitForEvent('filechooser');
  await (await menuEntry(page, other, 'import')).click();
  await (await choosing).setFiles(zip);
  await expect(page.locator('.Toastify__toast').filter({ hasText: 'Imported' })).toBeVisible();

  await expect.poll(async () => (await api.pipelines(target.id)).length).toBe(1);
  const [imported] = await api.pipelines(target.id);
  const canvas = page.locator(`#fusionpipe-pipeline-${imported.id}`);
  await expect(canvas.getByTestId('fp-canvas')).toBeVisible();
  await expect(canvas.getByTestId('fp-node')).toHaveCount(4);
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(4);
  for (const tag of ['load/raw', 'plot']) {
    await expect(canvas.getByTestId('fp-node').filter({ hasText: tag })).toHaveCount(1);
  }
  await expect(canvas.getByTestId('fp-node').filter({ hasText: 'fit' })).toHaveCount(2);
  // The sidebar lists it under its project too.
  await expandProject(other);
  await expect(other.getByTestId('fp-pipeline')).toHaveCount(1);
  await expect(other.getByTestId('fp-pipeline')).toContainText(pipeline.tag);
  expect(shape(await api.graph(imported.id))).toEqual(shape(await api.graph(pipeline.id)));
  await page.screenshot({ path: 'screenshots/transfer-imported.png' });
});

test('a node of a locked pipeline says why a change is refused', async ({ page, request }) => {
  const api = rest(request);
  const made = await api.newPipeline(unique('frozen'), unique('paper'), ['figure']);
  const { project, pipeline } = made;
  const [node] = made.nodes;
  await api.patch(`pipelines/${pipeline.id}`, { locked: true });

  const item = await projectItem(page, project.id);
  await expandProject(item);
  await item.locator(`[data-testid="fp-pipeline"][data-id="${pipeline.id}"]`).click();
  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const drawn = canvas.locator(`.svelte-flow__node[data-id="${node.id}"]`);
  await expect(drawn.getByRole('img', { name: 'locked' })).toBeVisible();

  await drawn.click({ button: 'right' });
  const menu = page.getByTestId('fp-context-menu');
  // Its own lock is off: the entry offers to lock it, not to unlock the pipeline's lock.
  await expect(menu.getByRole('menuitem', { name: 'Lock', exact: true })).toBeVisible();
  await menu.getByRole('menuitem', { name: 'Set stale' }).click();
  const refusal = page
    .locator('.Toastify__toast')
    .filter({ hasText: `frozen by locked pipeline '${pipeline.tag}'` });
  await expect(refusal).toBeVisible();
  await expect(refusal).toBeInViewport({ ratio: 1 }); // slid in, for the screenshot
  // The inspector words the same reason under the node's parameters.
  await expect(page.getByText(`Pipeline "${pipeline.tag}" is locked`)).toBeVisible();
  await page.screenshot({ path: 'screenshots/transfer-locked-refusal.png' });
});
