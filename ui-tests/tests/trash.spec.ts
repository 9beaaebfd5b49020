import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

const API = '/fusionpipe/api';

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
    call,
    get: (path: string) => ok('GET', path),
    post: (p: string, d: object) => ok('POST', p, d),
  };
}

const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('fusionpipe-sidebar');
  return page.locator('#fusionpipe-sidebar');
}

test('a deleted pipeline waits in Recently deleted and comes back from there', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('kept') });
  const tag = unique('precious');
  const pipeline = await api.post('pipelines', { project_id: project.id, tag });
  await api.post(`pipelines/${pipeline.id}/nodes`, { tag: 'fit' });
  await api.post(`pipelines/${pipeline.id}/nodes`, { tag: 'plot' });

  const panel = await openSidebar(page);
  const header = panel.locator(`[data-testid="fp-project"][data-id="${project.id}"]`);
  await header.getByTestId('fp-project-header').click();
  const item = panel.locator(`[data-testid="fp-pipeline"][data-id="${pipeline.id}"]`);
  await expect(item).toBeVisible();

  // Deleting says where it goes, then it leaves the list for Recently deleted.
  await item.click({ button: 'right' });
  await page.getByTestId('fp-menu-delete').click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Recently deleted');
  await dialog.getByTestId('fp-confirm-input').fill(tag);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(item).toHaveCount(0);

  const trash = panel.getByTestId('fp-trash');
  await trash.getByTestId('fp-trash-toggle').click();
  const entry = trash.getByTestId('fp-trash-item').filter({ hasText: tag });
  await expect(entry).toBeVisible();
  await expect(entry).toContainText('pipeline');
  await expect(entry).toContainText('with 2 nodes');
  await expect(entry).toContainText('deleted by');
  await page.screenshot({ path: 'screenshots/sidebar-recently-deleted.png' });

  await entry.getByTestId('fp-trash-restore').click();
  await expect(page.locator('.jp-Notification-Toast-success')).toContainText(
    `Restored pipeline "${tag}"`,
  );
  await expect(entry).toHaveCount(0);
  await expect(item).toBeVisible();
  const graph = await api.get(`pipelines/${pipeline.id}`);
  expect(graph.nodes.map((n: { tag: string }) => n.tag).sort()).toEqual(['fit', 'plot']);

  // Deleted for good from there: gone from the trash, and no restore is possible.
  expect((await api.call('DELETE', `pipelines/${pipeline.id}`)).status).toBe(204);
  const again = trash.getByTestId('fp-trash-item').filter({ hasText: tag });
  await expect(again).toBeVisible();
  await again.getByTestId('fp-trash-purge').click();
  await expect(dialog).toContainText('cannot be restored afterwards');
  await dialog.getByRole('button', { name: 'Delete for good' }).click();
  await expect(again).toHaveCount(0);
  const listed = await api.get('trash');
  expect(listed.items.filter((i: { tag: string }) => i.tag === tag)).toEqual([]);
});

test('a restore the server refuses says why', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('clash') });
  const tag = unique('taken');
  const pipeline = await api.post('pipelines', { project_id: project.id, tag });
  expect((await api.call('DELETE', `pipelines/${pipeline.id}`)).status).toBe(204);
  await api.post('pipelines', { project_id: project.id, tag });

  const panel = await openSidebar(page);
  const trash = panel.getByTestId('fp-trash');
  await trash.getByTestId('fp-trash-toggle').click();
  const entry = trash.getByTestId('fp-trash-item').filter({ hasText: tag });
  await entry.getByTestId('fp-trash-restore').click();
  await expect(page.locator('.jp-Notification-Toast-error')).toContainText(
    `another pipeline is now tagged '${tag}'`,
  );
  await expect(entry).toBeVisible();
});
