import { expect, test } from '@jupyterlab/galata';
import type { APIRequestContext, Page } from '@playwright/test';

const API = '/fusionpipe/api';
// Each run writes new data, so the children run again too (unchanged outputs would let them be).
const SLOW = `import time
from pathlib import Path
import fusionpipe
time.sleep(2)
(Path(fusionpipe.data_dir()) / "stamp.txt").write_text(str(time.time()))
`;

function rest(request: APIRequestContext) {
  const call = async (method: 'get' | 'post', path: string, data?: object) => {
    const response = await request[method](`${API}/${path}`, { data });
    expect(response.status(), await response.text()).toBeLessThan(300);
    return response.status() === 204 ? {} : response.json();
  };
  return {
    get: (path: string) => call('get', path),
    post: (path: string, data: object) => call('post', path, data),
  };
}

function openPipeline(page: Page, pipelineId: string): Promise<unknown> {
  return page.evaluate(
    (id) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (window as any).jupyterapp.commands.execute('fusionpipe:open-pipeline', { pipelineId: id }),
    pipelineId,
  );
}

test('the toolbar shows run progress live in every browser, and the end is notified', async ({
  page,
  request,
  browser,
  baseURL,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: 'progress-project' });
  const pipeline = await api.post('pipelines', { project_id: project.id, tag: 'progress-pipe' });
  const ids: string[] = [];
  for (const tag of ['one', 'two', 'three']) {
    const node = await api.post(`pipelines/${pipeline.id}/nodes`, { tag });
    const { lab_path: labPath } = await api.get(`nodes/${node.id}`);
    const saved = await request.put(`/api/contents/${labPath}/code/main.py`, {
      data: { type: 'file', format: 'text', content: SLOW },
    });
    expect(saved.status()).toBeLessThan(300);
    if (ids.length) {
      await api.post(`pipelines/${pipeline.id}/edges`, { source: ids.at(-1), target: node.id });
    }
    ids.push(node.id);
  }
  // A first run gives the nodes durations to estimate the next run from.
  const first = await api.post(`pipelines/${pipeline.id}/runs`, {});
  await expect
    .poll(async () => (await api.get(`runs/${first.id}`)).status, { timeout: 60000 })
    .toBe('completed');
  await api.post(`pipelines/${pipeline.id}/status`, { node_ids: [ids[0]], status: 'staledata' });

  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
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
