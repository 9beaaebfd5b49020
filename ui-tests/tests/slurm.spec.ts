import { expect, test } from '@jupyterlab/galata';

import { openPipeline, pageErrors, rest } from './fusionpipe';

// The server of these tests has a real single-node Slurm of its own (see
// jupyter_server_test_config.py): these nodes are real jobs, held back by Slurm itself.

/** A mapped node of three items on Slurm, one at a time, each sleeping: one runs, two wait. */
const SWEEP = `run_mode: slurm
map:
  n: [1, 2, 3]
slurm:
  max_running: 1
`;
/** A node Slurm holds back for an hour (sbatch --begin): PENDING, with Slurm's reason. */
const LATER = `run_mode: slurm
slurm:
  options: ["--begin=now+3600"]
`;

test('Slurm jobs: the node waiting in the queue with Slurm reason, items queued apart from running ones', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const {
    pipeline,
    nodes: [sweep, later],
  } = await api.newPipeline('slurm-project', 'slurm-pipe', [
    { tag: 'sweep', position: { x: 0, y: 0 } },
    { tag: 'later', position: { x: 300, y: 0 } },
  ]);
  for (const [node, content] of [
    [sweep, SWEEP],
    [later, LATER],
  ] as const) {
    const saved = await api.call('PUT', `nodes/${node.id}/parameters`, { content });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }
  const { lab_path: labPath } = await api.get(`nodes/${sweep.id}`);
  await api.writeMain(labPath, 'import time\n\ntime.sleep(600)\n');
  // Code of its own: a node with the default code would be restored from the run cache (an
  // earlier spec ran one), and never reach Slurm.
  const { lab_path: laterPath } = await api.get(`nodes/${later.id}`);
  await api.writeMain(laterPath, `print("held back by Slurm", ${Date.now()})\n`);
  const run = await api.post(`pipelines/${pipeline.id}/runs`, {});

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const sweepCard = view.getByTestId('fp-node').filter({ hasText: 'sweep' });
  // One item runs, the other two wait in Slurm's queue: drawn apart, and counted apart.
  await expect(sweepCard.getByTestId('fp-node-items-counts')).toHaveText(
    '0 ✓ · 1 ▸ · 2 queued / 3',
    { timeout: 60000 },
  );
  const bar = sweepCard.getByTestId('fp-node-items-bar');
  await expect(bar.locator('[data-status="running"]')).toHaveAttribute('data-count', '1');
  await expect(bar.locator('[data-status="queued"]')).toHaveAttribute('data-count', '2');
  await expect(sweepCard.getByTestId('fp-node-items')).toHaveAttribute(
    'title',
    '1 running, 2 queued (waiting in Slurm) of 3 items',
  );

  // The inspector: the array's job id and its tasks by Slurm's state; the items, two queued.
  await sweepCard.click();
  const inspector = view.getByTestId('fp-inspector');
  await expect(inspector.getByTestId('fp-inspector-job')).toHaveText(
    /^\d+ · 2 PENDING, 1 RUNNING$/,
    { timeout: 30000 },
  );
  const rows = inspector.getByTestId('fp-items').getByTestId('fp-item');
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: 'Queued' })).toHaveCount(2);
  await expect(rows.locator('[data-job-state^="PENDING"]').first()).toHaveAttribute(
    'title',
    /^Slurm: PENDING \(JobArrayTaskLimit\)$/,
  );
  await page.screenshot({ path: 'screenshots/slurm-items-queued.png' });

  // The held node: PENDING with Slurm's own reason, its job id beside it.
  await view.getByTestId('fp-node').filter({ hasText: 'later' }).click();
  await expect(inspector.getByTestId('fp-inspector-job')).toHaveText(
    /^\d+ · PENDING \(BeginTime\)$/,
    { timeout: 30000 },
  );
  await page.screenshot({ path: 'screenshots/slurm-node-pending.png' });

  // Cancelled: scancel ends the jobs, and nothing is left queued or running.
  await api.post(`runs/${run.id}/cancel`, {});
  await api.finished(run.id, /^(cancelled|failed)$/);
  await expect(sweepCard.getByTestId('fp-node-items-counts')).not.toContainText('queued');
  await expect(inspector.getByTestId('fp-inspector-job')).toHaveCount(0);
  const items = (await api.get(`nodes/${sweep.id}/items`)).items;
  expect(items.map((item: { job_state: string | null }) => item.job_state)).toEqual([
    null,
    null,
    null,
  ]);
  expect(errors).toEqual([]);
});
