import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { expandProject, menuEntry, pageErrors, rest, unique } from './fusionpipe';

async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('fusionpipe-sidebar');
  return page.locator('#fusionpipe-sidebar');
}

test('a deleted pipeline waits in Recently deleted and comes back from there', async ({
  page,
  request,
}) => {
  const errors = pageErrors(page);
  const api = rest(request);
  const tag = unique('precious');
  const { project, pipeline } = await api.newPipeline(unique('kept'), tag, ['fit', 'plot']);

  const panel = await openSidebar(page);
  await expandProject(panel.locator(`[data-testid="fp-project"][data-id="${project.id}"]`));
  const item = panel.locator(`[data-testid="fp-pipeline"][data-id="${pipeline.id}"]`);
  await expect(item).toBeVisible();

  // Deleting says where it goes, then it leaves the list for Recently deleted.
  await (await menuEntry(page, item, 'delete')).click();
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
  // In view, so that the screenshot shows the entry and not just the section's heading.
  await entry.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/sidebar-recently-deleted.png' });

  await entry.getByTestId('fp-trash-restore').click();
  await expect(page.locator('.jp-Notification-Toast-success')).toContainText(
    `Restored pipeline "${tag}"`,
  );
  await expect(entry).toHaveCount(0);
  await expect(item).toBeVisible();
  const graph = await api.graph(pipeline.id);
  expect(graph.nodes.map((n) => n.tag).sort()).toEqual(['fit', 'plot']);

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
  expect(errors).toEqual([]);
});

test('a restore the server refuses says why', async ({ page, request }) => {
  const api = rest(request);
  const tag = unique('taken');
  const { project, pipeline } = await api.newPipeline(unique('clash'), tag);
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
