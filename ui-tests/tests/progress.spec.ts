import { expect, test } from '@jupyterlab/galata';

import { openPipeline, pageErrors, rest, unique } from './fusionpipe';

// Each run writes new data, so the children run again too (unchanged outputs would let them be).
const SLOW = `import time
from pathlib import Path
import fusionpipe
time.sleep(2)
(Path(fusionpipe.data_dir()) / "stamp.txt").write_text(str(time.time()))
`;

test('the toolbar shows run progress live in every browser, and the end is notified', async ({
  page,
  request,
  browser,
  baseURL,
}) => {
  const api = rest(request);
  const { pipeline, nodes } = await api.newPipeline(
    'progress-project',
    'progress-pipe',
    ['one', 'two', 'three'],
    [
      [0, 1],
      [1, 2],
    ],
  );
  const ids: string[] = nodes.map((node) => node.id);
  for (const id of ids) {
    const { lab_path: labPath } = await api.get(`nodes/${id}`);
    await api.writeMain(labPath, SLOW);
  }
  // A first run gives the nodes durations to estimate the next run from.
  await api.run(pipeline.id);
  await api.post(`pipelines/${pipeline.id}/status`, { node_ids: [ids[0]], status: 'staledata' });

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const progress = view.getByTestId('fp-run-progress');
  await expect(progress).toHaveAttribute('data-run-status', 'completed');
  await expect(progress).toContainText('Last run completed');
  await expect(view.getByTestId('fp-run-progress-count')).toHaveText('3 of 3 nodes');

  // Another browser on the same pipeline.
  const other = await browser.newPage();
  // A workspace of its own: the default one may hold tabs that earlier tests left open.
  await other.goto(`${baseURL}/lab/workspaces/progress-other?reset`);
  await other.waitForFunction(() => 'jupyterapp' in window);
  await other.waitForFunction(() =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (window as any).jupyterapp.commands.hasCommand('fusionpipe:open-pipeline'),
  );
  await openPipeline(other, pipeline.id);
  const otherProgress = other
    .locator(`#fusionpipe-pipeline-${pipeline.id}`)
    .getByTestId('fp-run-progress');
  await expect(otherProgress).toContainText('Last run completed', { timeout: 20000 });

  await view.getByTestId('fp-run-pipeline').click();
  await expect(progress).toHaveAttribute('data-run-status', 'running', { timeout: 10000 });
  await expect(view.getByTestId('fp-run-progress-count')).toHaveText('0 of 3 nodes');
  // An estimate from the first run's durations, and time that goes on between updates.
  await expect(view.getByTestId('fp-run-progress-left')).toHaveText(/^about 00:0\d left$/);
  const time = view.getByTestId('fp-run-progress-time');
  const at = await time.textContent();
  await expect(time).not.toHaveText(at!);
  await expect(view.getByTestId('fp-run-progress-count')).toHaveText('1 of 3 nodes', {
    timeout: 20000,
  });
  await expect(otherProgress).toHaveAttribute('data-run-status', 'running');
  await expect(
    other.locator(`#fusionpipe-pipeline-${pipeline.id}`).getByTestId('fp-run-progress-count'),
  ).toHaveText(/[12] of 3 nodes/);
  await page.screenshot({ path: 'screenshots/progress-running.png' });

  await expect(progress).toHaveAttribute('data-run-status', 'completed', { timeout: 30000 });
  await expect(view.getByTestId('fp-run-progress-count')).toHaveText('3 of 3 nodes');
  await expect(view.getByTestId('fp-run-progress-left')).toHaveCount(0);
  await expect(otherProgress).toHaveAttribute('data-run-status', 'completed');
  await other.close();

  // The user who started the run is told when it ends, even with the pipeline's tab closed.
  const toasts = page.locator('.Toastify__toast');
  const [started] = (await api.get(`pipelines/${pipeline.id}/runs?limit=1`)).runs;
  await expect(
    toasts.filter({ hasText: `run ${started.id} of progress-pipe completed` }),
  ).toHaveCount(1);
  await page.evaluate(() => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const app = (window as any).jupyterapp;
    for (const widget of Array.from(app.shell.widgets('main')) as { dispose(): void }[]) {
      widget.dispose();
    }
  });
  await api.post(`pipelines/${pipeline.id}/status`, { node_ids: [ids[2]], status: 'staledata' });
  const last = await api.post(`pipelines/${pipeline.id}/runs`, {});
  const told = toasts.filter({ hasText: `run ${last.id} of progress-pipe completed` });
  await expect(told).toHaveCount(1, { timeout: 30000 });
  await page.screenshot({ path: 'screenshots/progress-notification.png' });
  await told.getByRole('button', { name: 'Show run' }).click();
  const runs = page.locator(`#fusionpipe-runs-${pipeline.id}`);
  await expect(runs.getByTestId('fp-run-details')).toHaveAttribute('data-run', last.id);
  await expect(runs.getByTestId('fp-runs-row').first()).toHaveAttribute('data-run', last.id);
  expect(errors).toEqual([]);
});

test('runs of one pipeline that end together share one notification', async ({ page, request }) => {
  const api = rest(request);
  const tag = unique('toasts-pipe');
  const { pipeline } = await api.newPipeline(unique('toasts-project'), tag, ['only']);
  // A script's sweep: four runs back to back (after the first, the node is up to date).
  await api.run(pipeline.id);
  const runs = [];
  for (let index = 0; index < 3; index++) {
    runs.push(await api.post(`pipelines/${pipeline.id}/runs`, {}));
  }
  for (const run of runs) {
    await api.finished(run.id);
  }
  const toasts = page.locator('.Toastify__toast').filter({ hasText: `of ${tag}` });
  await expect(toasts).toContainText('(and 3 earlier runs ended)');
  await expect(toasts).toHaveCount(1);
  await expect(toasts).toContainText(`the run ${runs[2].id} of ${tag} completed`);
  await expect(toasts).toBeInViewport({ ratio: 1 }); // slid in, as a person sees it
  await page.screenshot({ path: 'screenshots/progress-notifications-shared.png' });
});
