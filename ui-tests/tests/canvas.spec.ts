import { expect, test } from '@jupyterlab/galata';

import { openFromSidebar, pageErrors, rest } from './fusionpipe';

test('a pipeline opens on the canvas, runs, and its nodes turn green live', async ({
  page,
  request,
}) => {
  const { pipeline } = await rest(request).newPipeline(
    'canvas-project',
    'canvas-pipeline',
    [
      { tag: 'load', position: { x: 0, y: 0 } },
      { tag: 'fit', position: { x: 0, y: 160 } },
    ],
    [[0, 1]],
  );

  const errors = pageErrors(page);
  await openFromSidebar(page, 'canvas-project', 'canvas-pipeline');

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
