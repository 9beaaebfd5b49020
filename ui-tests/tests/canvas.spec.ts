import { expect, test } from '@jupyterlab/galata';

const API = '/fusionpipe/api';

test('a pipeline opens on the canvas, runs, and its nodes turn green live', async ({
  page,
  request,
}) => {
  const post = async (path: string, data: object) => {
    const response = await request.post(`${API}/${path}`, { data });
    expect(response.status(), await response.text()).toBeLessThan(300);
    return response.status() === 204 ? {} : response.json();
  };
  const project = await post('projects', { tag: 'canvas-project' });
  const pipeline = await post('pipelines', { project_id: project.id, tag: 'canvas-pipeline' });
  const load = await post(`pipelines/${pipeline.id}/nodes`, {
    tag: 'load',
    position: { x: 0, y: 0 },
  });
  const fit = await post(`pipelines/${pipeline.id}/nodes`, {
    tag: 'fit',
    position: { x: 0, y: 160 },
  });
  await post(`pipelines/${pipeline.id}/edges`, { source: load.id, target: fit.id });

  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.sidebar.openTab('fusionpipe-sidebar');
  const sidebar = page.locator('#fusionpipe-sidebar');
  await sidebar.getByTestId('fp-project').filter({ hasText: 'canvas-project' }).click();
  await sidebar.getByTestId('fp-pipeline').filter({ hasText: 'canvas-pipeline' }).click();

  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const nodes = canvas.getByTestId('fp-node');
  await expect(nodes).toHaveCount(2);
  await expect(nodes.first()).toHaveAttribute('data-status', 'ready');
  await expect(canvas.getByText('01', { exact: true })).toBeVisible(); // the edge's slot
  for (const box of [await nodes.nth(0).boundingBox(), await nodes.nth(1).boundingBox()]) {
    expect(box!.width).toBeGreaterThan(100); // rendered at a readable size, not a speck
  }

  await canvas.getByTestId('fp-run-pipeline').click();
  await expect(canvas.locator('[data-status="completed"]')).toHaveCount(2, { timeout: 60000 });
  await page.screenshot({ path: 'screenshots/canvas-completed.png' });
  expect(errors).toEqual([]);
});
