import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

const API = '/fusionpipe/api';

// Room for the canvas beside the sidebar.
test.use({ viewport: { width: 1440, height: 900 } });

interface RestGraph {
  id: string;
  tag: string;
  nodes: { id: string; tag: string; kind: string; position: { x: number; y: number } }[];
  edges: { source: string; target: string; slot: string }[];
  groups: { tag: string; collapsed: boolean }[];
}

function rest(request: APIRequestContext) {
  const call = async (method: string, path: string, data?: object) => {
    const response = await request.fetch(`${API}/${path}`, { method, data });
    const text = await response.text();
    return { status: response.status(), body: text ? JSON.parse(text) : undefined };
  };
  const ok = async (method: string, path: string, data?: object) => {
    const answer = await call(method, path, data);
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
    return answer.body;
  };
  return {
    post: (path: string, data: object) => ok('POST', path, data),
    patch: (path: string, data: object) => ok('PATCH', path, data),
    graph: (id: string): Promise<RestGraph> => ok('GET', `pipelines/${id}`),
    pipelines: async (projectId: string): Promise<{ id: string; tag: string }[]> =>
      (await ok('GET', `pipelines?project_id=${projectId}`)).pipelines,
  };
}

const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

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

async function expand(project: Locator): Promise<void> {
  const header = project.getByTestId('fp-project-header');
  if ((await header.getAttribute('aria-expanded')) !== 'true') {
    await header.click();
  }
  await expect(project.getByTestId('fp-pipeline-list')).toBeVisible();
}

async function menuEntry(page: IJupyterLabPageFixture, target: Locator, entry: string) {
  await target.click({ button: 'right' });
  const menu = page.getByTestId('fp-context-menu');
  await expect(menu).toBeVisible();
  return menu.getByTestId(`fp-menu-${entry}`);
}

test('export a pipeline from the panel, import it into another project, same graph', async ({
  page,
  request,
}, testInfo) => {
  const api = rest(request);
  const source = await api.post('projects', { tag: unique('exporting') });
  const target = await api.post('projects', { tag: unique('importing') });
  const pipeline = await api.post('pipelines', { project_id: source.id, tag: unique('survey') });
  const url = `pipelines/${pipeline.id}`;
  const add = (tag: string, kind: string, x: number, y: number) =>
    api.post(`${url}/nodes`, { tag, kind, position: { x, y } });
  const load = await add('load/raw', 'python', 0, 0);
  const fit = await add('fit', 'notebook', -140, 160);
  const again = await add('fit', 'shell', 140, 160);
  const plot = await add('plot', 'python', 0, 320);
  for (const [parent, child] of [
    [load, fit],
    [load, again],
    [fit, plot],
    [again, plot],
  ]) {
    await api.post(`${url}/edges`, { source: parent.id, target: child.id });
  }
  await api.post(`${url}/groups`, { node_ids: [fit.id, again.id], tag: 'fits' });

  // Export from the pipeline's menu in the sidebar: the browser downloads a zip.
  const project = await projectItem(page, source.id);
  await expand(project);
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
  await expand(other);
  await expect(other.getByTestId('fp-pipeline')).toHaveCount(1);
  await expect(other.getByTestId('fp-pipeline')).toContainText(pipeline.tag);
  expect(shape(await api.graph(imported.id))).toEqual(shape(await api.graph(pipeline.id)));
  await page.screenshot({ path: 'screenshots/transfer-imported.png' });
});

test('a node of a locked pipeline says why a change is refused', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('frozen') });
  const pipeline = await api.post('pipelines', { project_id: project.id, tag: unique('paper') });
  const node = await api.post(`pipelines/${pipeline.id}/nodes`, { tag: 'figure' });
  await api.patch(`pipelines/${pipeline.id}`, { locked: true });

  const item = await projectItem(page, project.id);
  await expand(item);
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
