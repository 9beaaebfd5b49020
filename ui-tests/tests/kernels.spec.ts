import { expect, test } from '@jupyterlab/galata';

import { rest } from './fusionpipe';

test('node kernels can be picked but do not flood the launcher', async ({ page, request }) => {
  const { nodes } = await rest(request).newPipeline('kernels-project', 'kernels-pipeline', ['fit']);
  const [node] = nodes;

  // The node's kernel is registered with the server...
  const specs = await (await request.get('/api/kernelspecs')).json();
  expect(Object.keys(specs.kernelspecs)).toContain(`fusionpipe-${node.id}`);
  await page.reload(); // the lab reads kernel specs when it starts

  // ...but the launcher shows only the ordinary kernels.
  await page.evaluate(() => window.jupyterapp.commands.execute('launcher:create'));
  const launcher = page.locator('.jp-Launcher:visible');
  const notebookCards = launcher.locator('.jp-LauncherCard[data-category="Notebook"]');
  await expect(notebookCards.first()).toBeVisible();
  const nodeCard = launcher.locator(`.jp-LauncherCard[title="fusionpipe: fit (${node.id})"]`);
  await expect(nodeCard).toHaveCount(2); // a notebook and a console card, in the page...
  await expect(nodeCard.first()).toBeHidden(); // ...and hidden
  await expect(nodeCard.last()).toBeHidden();
  await expect(
    launcher.locator('.jp-LauncherCard[title="Python 3 (ipykernel)"]').first(),
  ).toBeVisible();
  await page.screenshot({ path: 'screenshots/launcher-without-node-kernels.png' });
});
