import { expect, test } from '@jupyterlab/galata';

import { openPipeline, pageErrors, rest } from './fusionpipe';

test('the Runs view pages through the history, filters failures and opens a run', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, nodes } = await api.newPipeline(
    'runs-project',
    'runs-pipe',
    ['load', 'fit'],
    [[0, 1]],
  );
  const [load, fit] = nodes;
  const { lab_path: fitPath } = await api.get(`nodes/${fit.id}`);
  const writeFit = (content: string) => api.writeMain(fitPath, content);
  const runAndWait = async (): Promise<string> =>
    (await api.run(pipeline.id, /completed|failed/)).id;
  // Two failed runs (fit exits 3), then a good one, then 55 runs with nothing left to do.
  await writeFit('import sys\nprint("no convergence after 40 iterations")\nsys.exit(3)\n');
  const failed = await runAndWait();
  await runAndWait();
  await writeFit('print("converged")\n');
  await runAndWait();
  for (let index = 0; index < 55; index++) {
    await runAndWait();
  }

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await canvas.getByTestId('fp-show-runs').click();

  const view = page.locator(`#fusionpipe-runs-${pipeline.id}`);
  const rows = view.getByTestId('fp-runs-row');
  await expect(rows).toHaveCount(50);
  await expect(view.getByTestId('fp-runs-count')).toHaveText('1–50 of 58');
  await expect(page.locator('#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current')).toContainText(
    'Runs: runs-pipe',
  );
  await expect(rows.first()).toContainText('whole pipeline');
  await expect(rows.first()).toContainText('completed');
  await view.getByTestId('fp-runs-older').click();
  await expect(view.getByTestId('fp-runs-count')).toHaveText('51–58 of 58');
  await expect(rows).toHaveCount(8);
  await expect(rows.last()).toHaveAttribute('data-run', failed);
  await expect(view.getByTestId('fp-runs-older')).toBeDisabled();

  // Failed only: the two failed runs, newest first.
  await view.getByTestId('fp-runs-failed-only').check();
  await expect(view.getByTestId('fp-runs-count')).toHaveText('1–2 of 2');
  await expect(rows).toHaveCount(2);
  for (const row of await rows.all()) {
    await expect(row).toHaveAttribute('data-status', 'failed');
  }

  // A run opens to its nodes: status, attempt, duration, exit code; and a node's log.
  await rows.last().click();
  const details = view.getByTestId('fp-run-details');
  await expect(details).toHaveAttribute('data-run', failed);
  const fitRow = details.locator(`[data-node="${fit.id}"]`);
  await expect(fitRow).toHaveAttribute('data-status', 'failed');
  await expect(fitRow.locator('td')).toHaveText([
    'fit',
    'failed',
    '1',
    /\d+\.\d s/,
    '3',
    'exit code 3',
    'log',
  ]);
  await expect(details.locator(`[data-node="${load.id}"]`)).toHaveAttribute(
    'data-status',
    'completed',
  );
  await fitRow.getByTestId('fp-run-node-log').click();
  await expect(details.getByTestId('fp-inspector-log')).toContainText(
    'no convergence after 40 iterations',
  );
  await page.screenshot({ path: 'screenshots/runs-view.png' });

  // Live: a new failing run appears at the top of the open view without a reload.
  await writeFit('import sys\nsys.exit(4)\n');
  await api.post(`pipelines/${pipeline.id}/status`, { node_ids: [fit.id], status: 'staledata' });
  await runAndWait();
  await expect(view.getByTestId('fp-runs-count')).toHaveText('1–3 of 3');
  expect(errors).toEqual([]);
});

test('a retried node shows its attempt of how many, and how each attempt ended', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const {
    pipeline,
    nodes: [flaky],
  } = await api.newPipeline('retries-project', 'retries-pipe', ['flaky']);
  const saved = await api.call('PUT', `nodes/${flaky.id}/parameters`, { content: 'retries: 2\n' });
  expect(saved.status).toBe(200);
  const { lab_path: flakyPath } = await api.get(`nodes/${flaky.id}`);
  // Fails twice, then succeeds: the count lives in data/, which a retry keeps.
  await api.writeMain(
    flakyPath,
    [
      'from pathlib import Path',
      'count = Path("../data/count")',
      'n = int(count.read_text()) + 1 if count.exists() else 1',
      'count.write_text(str(n))',
      'raise SystemExit(0 if n == 3 else 7)',
      '',
    ].join('\n'),
  );
  await api.run(pipeline.id);

  await openPipeline(page, pipeline.id);
  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await canvas.getByTestId('fp-show-runs').click();
  const view = page.locator(`#fusionpipe-runs-${pipeline.id}`);
  await view.getByTestId('fp-runs-row').first().click();
  const row = view.getByTestId('fp-run-details').locator(`[data-node="${flaky.id}"]`);
  await expect(row).toHaveAttribute('data-status', 'completed');
  const attempt = row.getByTestId('fp-run-node-attempt');
  await expect(attempt).toHaveText('3 of 3');
  await expect(attempt).toHaveAttribute(
    'title',
    /^attempt 1: exit code 7 \(\d+\.\d s\)\nattempt 2: exit code 7 \(\d+\.\d s\)\nattempt 3: completed \(\d+\.\d s\)$/,
  );
  await page.screenshot({ path: 'screenshots/runs-attempts.png' });
});
