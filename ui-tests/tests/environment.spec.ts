import { expect, test } from '@jupyterlab/galata';

import { openPipeline, pageErrors, rest } from './fusionpipe';

test("saving a node's requirements builds its environment ahead, shown live", async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, nodes } = await api.newPipeline('env-project', 'env-pipe', ['fit']);
  const [node] = nodes;
  const { lab_path: labPath } = await api.get(`nodes/${node.id}`);

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await view.getByTestId('fp-node').filter({ hasText: 'fit' }).click();
  const environment = view.getByTestId('fp-inspector').getByTestId('fp-inspector-environment');
  await expect(environment).toHaveText('none');

  // Saved through the lab, as its editor or file browser would: no run asked for.
  const saved = await request.put(`/api/contents/${labPath}/code/requirements.txt`, {
    data: { type: 'file', format: 'text', content: '# only the node API and ipykernel\n' },
  });
  expect(saved.status()).toBeLessThan(300);
  await expect(environment).toHaveText('building', { timeout: 15000 });
  await page.screenshot({ path: 'screenshots/environment-building.png' });
  await expect(environment).toHaveText('ready', { timeout: 180000 });
  await page.screenshot({ path: 'screenshots/environment-ready.png' });
  expect(errors).toEqual([]);
});
