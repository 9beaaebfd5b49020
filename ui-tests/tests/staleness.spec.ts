import { expect, test } from '@jupyterlab/galata';

import { openPipeline, pageErrors, rest } from './fusionpipe';

test("editing main.py in the lab's editor turns the node stale with its reason, live", async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, nodes } = await api.newPipeline(
    'stale-project',
    'stale-pipe',
    ['fit', 'plot'],
    [[0, 1]],
  );
  const [node] = nodes;
  const run = await api.run(pipeline.id);
  const { lab_path: labPath } = await api.get(`nodes/${node.id}`);

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const fit = view.getByTestId('fp-node').filter({ hasText: 'fit' });
  const plot = view.getByTestId('fp-node').filter({ hasText: 'plot' });
  await expect(fit).toHaveAttribute('data-status', 'completed');
  await expect(fit.getByTestId('fp-stale-reasons')).toHaveCount(0);
  await fit.click();
  const inspector = view.getByTestId('fp-inspector');
  await expect(inspector.getByTestId('fp-inspector-made-by')).toContainText(`run ${run.id} on`);
  await expect(inspector.getByTestId('fp-inspector-stale-reasons')).toHaveCount(0);

  // Edit the code in JupyterLab's own editor and save it, as a user would.
  await page.evaluate(async (path) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (window as any).jupyterapp.commands.execute('docmanager:open', { path });
  }, `${labPath}/code/main.py`);
  const editor = page.locator('.jp-FileEditor .cm-content').filter({ visible: true });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('\nprint("a second model")\n');
  await page.keyboard.press('ControlOrMeta+s');
  await page.activity.activateTab('stale-pipe');

  // Without a reload: yellow, with a badge whose tooltip names the file; the child follows.
  await expect(fit).toHaveAttribute('data-status', 'staledata', { timeout: 15000 });
  const badge = fit.getByTestId('fp-stale-reasons');
  await expect(badge).toHaveText('1');
  await expect(badge).toHaveAttribute('title', /code\/main\.py changed/);
  await expect(plot).toHaveAttribute('data-status', 'staledata');
  await expect(plot.getByTestId('fp-stale-reasons')).toHaveAttribute('title', /upstream|fit/);
  const reasons = inspector.getByTestId('fp-inspector-stale-reasons');
  await expect(reasons).toContainText('code/main.py changed');
  await expect(reasons.locator('li')).toHaveAttribute('data-kind', 'code');
  await page.screenshot({ path: 'screenshots/staleness-light.png' });

  // Readable in the dark theme too: the badge's text and its background differ.
  await page.theme.setDarkTheme();
  const [text, background] = await badge.evaluate((element) => {
    const style = getComputedStyle(element);
    return [style.color, style.backgroundColor];
  });
  expect(text).not.toEqual(background);
  await badge.hover();
  await page.screenshot({ path: 'screenshots/staleness-dark.png' });
  expect(errors).toEqual([]);
});
