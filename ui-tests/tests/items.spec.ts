import { readFile } from 'node:fs/promises';

import { expect, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

import { menuEntry, openPipeline, pageErrors, rest } from './fusionpipe';

/** A mapped node's code: one fit per slope, writing its result into the item's own folder and
 * recording chi2. The item with slope 2 fails while the file `flag` exists. */
const fitMain = (flag: string) => `import sys
from pathlib import Path
import fusionpipe

slope = float(fusionpipe.item()["slope"])
print(f"fitting slope {slope}", flush=True)
if slope == 2 and Path(${JSON.stringify(flag)}).exists():
    print("no convergence for slope 2", flush=True)
    sys.exit(3)
(fusionpipe.data_dir() / "fit.txt").write_text(f"slope {slope}\\n")
fusionpipe.metrics(chi2=(slope - 1) ** 2 + 0.1)
`;

/** Saves a file (or, with `content` null, makes a folder) in the lab's tree. */
async function save(request: APIRequestContext, path: string, content: string | null) {
  const data = content === null ? { type: 'directory' } : { type: 'file', format: 'text', content };
  const saved = await request.put(`/api/contents/${path}`, { data });
  expect(saved.status(), await saved.text()).toBeLessThan(300);
}

/** A picture of a canvas node with the cards drawn behind it (outside its own box). */
async function shoot(card: Locator, path: string): Promise<void> {
  const box = (await card.boundingBox())!;
  const clip = { x: box.x - 4, y: box.y - 4, width: box.width + 16, height: box.height + 16 };
  await card.page().screenshot({ path, clip });
}

/** The widths of the bar's segments, by status. */
async function segmentWidths(bar: Locator): Promise<Record<string, number>> {
  return bar.evaluate((element) =>
    Object.fromEntries(
      Array.from(element.children).map((child) => [
        (child as HTMLElement).dataset.status,
        child.getBoundingClientRect().width,
      ]),
    ),
  );
}

test('a mapped node: its stack, its items and their logs, the failed one re-run alone', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const {
    pipeline,
    nodes: [node],
  } = await api.newPipeline('items-project', 'items-pipe', [
    { tag: 'fit', position: { x: 0, y: 0 } },
  ]);
  const parameters = await api.call('PUT', `nodes/${node.id}/parameters`, {
    content: 'map:\n  slope: [0.5, 1, 2]\n',
  });
  expect(parameters.status, JSON.stringify(parameters.body)).toBe(200);
  const { lab_path: labPath, folder } = await api.get(`nodes/${node.id}`);
  // The flag lives outside code/: removing it changes nothing the node's fingerprint counts.
  await save(request, `${labPath}/notebooks`, null);
  await save(request, `${labPath}/notebooks/fail`, 'slope 2 fails while this file exists');
  await api.writeMain(labPath, fitMain(`${folder}/notebooks/fail`));
  await api.run(pipeline.id, /^failed$/);
  const first = (await api.get(`nodes/${node.id}/items`)).items;

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const card = view.getByTestId('fp-node');
  // A stack: the card with two cards' shadows behind it, its items' bar and counts.
  await expect(card).toHaveClass(/fp-node-stack/);
  await expect(card).toHaveAttribute('data-status', 'failed');
  await expect(card.getByTestId('fp-node-items-counts')).toHaveText('2 ✓ · 1 ✗ / 3');
  const bar = card.getByTestId('fp-node-items-bar');
  await expect(bar.locator('[data-status]')).toHaveCount(2);
  const widths = await segmentWidths(bar);
  expect(widths.completed / widths.failed).toBeCloseTo(2, 0);
  // Two cards behind it, 4 and 8 pixels down and right: shadows, so the picture takes them in.
  expect(await card.evaluate((element) => getComputedStyle(element).boxShadow)).toMatch(
    /4px 4px 0px -1px.*8px 8px 0px 0px/,
  );
  await shoot(card, 'screenshots/items-node.png');

  // The inspector's Items section: counts by status, the list, one item's log.
  await card.click();
  const inspector = view.getByTestId('fp-inspector');
  const items = inspector.getByTestId('fp-items');
  const rows = items.getByTestId('fp-item');
  await expect(rows).toHaveCount(3);
  await expect(items.getByTestId('fp-items-count')).toHaveText('1–3 of 3');
  await expect(
    items.locator('[data-testid="fp-items-filter"][data-status="failed"]'),
  ).toContainText('failed 1');
  await items.locator('[data-testid="fp-items-filter"][data-status="failed"]').click();
  await expect(rows).toHaveCount(1);
  const failed = rows.first();
  await expect(failed).toHaveAttribute('data-item', 'slope=2');
  await expect(failed.locator('td')).toHaveText(['slope=2', 'failed', '3', /\d+\.\d s/]);
  await failed.click();
  const details = items.getByTestId('fp-item-details');
  await expect(details.getByTestId('fp-inspector-log')).toContainText('no convergence for slope 2');
  await expect(details.getByTestId('fp-item-reason')).toHaveText('exit code 3');
  await page.screenshot({ path: 'screenshots/items-inspector.png' });

  // By id: all statuses again, then the items whose id holds "0.5"; its outputs.
  await items.locator('[data-testid="fp-items-filter"][data-status="all"]').click();
  await expect(rows).toHaveCount(3);
  await items.getByTestId('fp-items-search').fill('0.5');
  await expect(rows).toHaveCount(1);
  await rows.first().click();
  await expect(details).toHaveAttribute('data-item', 'slope=0.5');
  await expect(details.getByTestId('fp-inspector-log')).toContainText('fitting slope 0.5');
  await expect(details.getByTestId('fp-output')).toHaveAttribute(
    'data-path',
    /slope=0\.5\/fit\.txt$/,
  );
  await items.getByTestId('fp-items-search').fill('');
  await expect(rows).toHaveCount(3);

  // Run failed items: only slope=2 runs again, and now passes.
  const removed = await request.delete(`/api/contents/${labPath}/notebooks/fail`);
  expect(removed.status()).toBe(204);
  await items.getByTestId('fp-items-run-failed').click();
  await expect(card.getByTestId('fp-node-items-counts')).toHaveText('3 ✓ / 3', { timeout: 60000 });
  await expect(card).toHaveAttribute('data-status', 'completed');
  await expect(items.getByTestId('fp-items-run-failed')).toBeDisabled();
  const second = (await api.get(`nodes/${node.id}/items`)).items;
  const runOf = (list: { id: string; run_id: string }[], id: string) =>
    list.find((item) => item.id === id)?.run_id;
  expect(runOf(second, 'slope=2')).not.toBe(runOf(first, 'slope=2'));
  expect(runOf(second, 'slope=0.5')).toBe(runOf(first, 'slope=0.5'));
  expect(runOf(second, 'slope=1')).toBe(runOf(first, 'slope=1'));
  await expect(rows.filter({ hasText: 'failed' })).toHaveCount(0);
  await page.screenshot({ path: 'screenshots/items-rerun.png' });

  // Run this item: a run of that item alone (up to date, it is not executed again).
  await rows.filter({ hasText: 'slope=1' }).click();
  await expect(details).toHaveAttribute('data-item', 'slope=1');
  // The lab adds a query to every request against caching: match the path.
  const asked = page.waitForRequest(
    (sent) =>
      sent.method() === 'POST' &&
      new URL(sent.url()).pathname.endsWith(`/pipelines/${pipeline.id}/runs`),
  );
  await details.getByTestId('fp-item-run').click();
  expect((await asked).postDataJSON()).toEqual({ items: { [node.id]: ['slope=1'] } });
  await expect.poll(async () => (await api.get(`pipelines/${pipeline.id}/runs`)).total).toBe(3);

  // The Compare view: one row per item, sorted by a click on chi2, filtered, plotted, saved.
  await items.getByTestId('fp-items-compare').click();
  const compare = page.locator(`#fusionpipe-compare-${node.id}`);
  const table = compare.getByTestId('fp-compare-row');
  await expect(table).toHaveCount(3);
  const chi2 = compare.locator('[data-testid="fp-compare-sort"][data-column="metrics.chi2"]');
  await chi2.click();
  await expect(table.first()).toHaveAttribute('data-row', 'slope=1');
  await chi2.click();
  await expect(table.first()).toHaveAttribute('data-row', 'slope=2');
  // chi2 against slope, a number: three points and a line through them.
  const plot = compare.getByTestId('fp-compare-plot');
  await expect(plot.locator('[aria-label="dot"] circle')).toHaveCount(3);
  await expect(plot.locator('[aria-label="line"] path')).toHaveCount(1);
  await page.screenshot({ path: 'screenshots/items-compare.png' });
  // Its colours are the lab theme's: the points change with it.
  const fill = () =>
    plot
      .locator('[aria-label="dot"] circle')
      .first()
      .evaluate((circle) => getComputedStyle(circle).fill);
  const light = await fill();
  await page.theme.setDarkTheme();
  await expect.poll(fill).not.toBe(light);
  await page.screenshot({ path: 'screenshots/items-compare-dark.png' });
  await page.theme.setLightTheme();

  const downloading = page.waitForEvent('download');
  await compare.getByTestId('fp-compare-csv').click();
  const csv = await readFile(await (await downloading).path(), 'utf-8');
  expect(csv.split('\r\n')).toEqual([
    'id,status,slope,chi2',
    'slope=2,completed,2,1.1',
    'slope=0.5,completed,0.5,0.35',
    'slope=1,completed,1,0.1',
    '',
  ]);
  await compare.getByTestId('fp-compare-filter').fill('slope=0.5');
  await expect(table).toHaveCount(1);
  await expect(plot.locator('[aria-label="dot"] circle')).toHaveCount(1);

  // One row per run of the node: the first run and the one of the failed item.
  await compare.getByTestId('fp-compare-filter').fill('');
  await compare.locator('[data-testid="fp-compare-by"][data-by="runs"]').click();
  await expect(table).toHaveCount(2);

  // The Runs view counts each run's items of the node: all three, then the failed one alone.
  await page.activity.activateTab('items-pipe');
  await view.getByTestId('fp-show-runs').click();
  const runs = page.locator(`#fusionpipe-runs-${pipeline.id}`);
  await runs.getByTestId('fp-runs-row').last().click();
  await expect(runs.getByTestId('fp-run-node-items')).toHaveText('3 of 3 items, 1 failed');
  await runs.getByTestId('fp-runs-row').nth(1).click();
  await expect(runs.getByTestId('fp-run-node-items')).toHaveText('1 of 1 item');
  await page.screenshot({ path: 'screenshots/items-runs.png' });
  expect(errors).toEqual([]);
});

test('a 10,000-item node is drawn from its counts and its items open paged', async ({
  page,
  request,
}) => {
  test.setTimeout(300000);
  const api = rest(request);
  const {
    pipeline,
    nodes: [node],
  } = await api.newPipeline('many-items-project', 'many-items-pipe', [
    { tag: 'many', position: { x: 0, y: 0 } },
  ]);
  // A grid of 100 x 100 values: 10,000 items, made by a run cancelled once they exist.
  await api.mapGrid(pipeline.id, node.id, 100);
  // The graph counts them and never lists them.
  const graph = await api.graph(pipeline.id);
  expect(JSON.stringify(graph).length).toBeLessThan(4000);

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const card = view.getByTestId('fp-node');
  await expect(card.getByTestId('fp-node-items-counts')).toContainText('/ 10,000');
  await expect(card).toHaveClass(/fp-node-stack/);

  // From the click on the node to the first page of its items drawn.
  const items = view.getByTestId('fp-items');
  const rows = items.getByTestId('fp-item');
  const clicked = Date.now();
  await card.click();
  await expect(rows).toHaveCount(50);
  await expect(items.getByTestId('fp-items-count')).toHaveText('1–50 of 10,000');
  const opened = Date.now() - clicked;
  process.stdout.write(`The items of a 10,000-item node opened in ${opened} ms (paged, 50 rows)\n`);
  test.info().annotations.push({ type: 'items opened (ms)', description: String(opened) });
  expect(opened).toBeLessThan(5000);
  await expect(rows.first()).toHaveAttribute('data-item', 'a=0,b=0');

  await items.getByTestId('fp-items-next').click();
  await expect(items.getByTestId('fp-items-count')).toHaveText('51–100 of 10,000');
  await expect(rows.first()).toHaveAttribute('data-item', 'a=0,b=50');
  await items.getByTestId('fp-items-previous').click();
  await expect(items.getByTestId('fp-items-count')).toHaveText('1–50 of 10,000');
  // The id filter is the server's: items of a=99 with b from 90 on, wherever they are.
  await items.getByTestId('fp-items-search').fill('a=99,b=9');
  await expect(items.getByTestId('fp-items-count')).toHaveText('1–11 of 11');
  await expect(rows.first()).toHaveAttribute('data-item', 'a=99,b=9');
  await items.locator('[data-testid="fp-items-filter"][data-status="ready"]').click();
  await expect(rows.first()).toHaveAttribute('data-status', 'ready');
  await page.screenshot({ path: 'screenshots/items-10000.png' });
  await shoot(card, 'screenshots/items-10000-node.png');
  // Its menu compares its items (a node that is not mapped, its runs).
  const entry = await menuEntry(page, card, 'compare');
  await expect(entry).toHaveText('Compare items…');
  await entry.click();

  // All 10,000 in the table: the first 1,000 drawn, all of them sorted, filtered and saved, an
  // id with a comma quoted. Nothing has recorded a metric: there is nothing to plot.
  const compare = page.locator(`#fusionpipe-compare-${node.id}`);
  await expect(compare.getByTestId('fp-compare-count')).toHaveText('10,000 of 10,000 rows');
  await expect(compare.getByTestId('fp-compare-row')).toHaveCount(1000);
  await expect(compare.getByTestId('fp-compare-plot')).toHaveCount(0);
  await compare.locator('[data-testid="fp-compare-sort"][data-column="values.b"]').click();
  await compare.locator('[data-testid="fp-compare-sort"][data-column="values.b"]').click();
  await expect(compare.getByTestId('fp-compare-row').first()).toHaveAttribute(
    'data-row',
    'a=0,b=99',
  );
  await compare.getByTestId('fp-compare-filter').fill('a=7,');
  await expect(compare.getByTestId('fp-compare-count')).toHaveText('100 of 10,000 rows');
  const downloading = page.waitForEvent('download');
  await compare.getByTestId('fp-compare-csv').click();
  const csv = (await readFile(await (await downloading).path(), 'utf-8')).split('\r\n');
  expect(csv).toHaveLength(102);
  expect(csv.slice(0, 3)).toEqual([
    'id,status,a,b',
    '"a=7,b=99",ready,7,99',
    '"a=7,b=98",ready,7,98',
  ]);
  await page.screenshot({ path: 'screenshots/items-10000-compare.png' });
  expect(errors).toEqual([]);
});

test('a node that is not mapped compares its runs: the parameters each used, what it recorded', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const {
    pipeline,
    nodes: [node],
  } = await api.newPipeline('runs-compare-project', 'runs-compare-pipe', [
    { tag: 'train', position: { x: 0, y: 0 } },
  ]);
  const { lab_path: labPath } = await api.get(`nodes/${node.id}`);
  await api.writeMain(
    labPath,
    'import fusionpipe\nlr = fusionpipe.parameters()["lr"]\nfusionpipe.metrics(loss=1 - lr)\n',
  );
  for (const lr of [0.1, 0.3, 0.2]) {
    const saved = await api.call('PUT', `nodes/${node.id}/parameters`, { content: `lr: ${lr}\n` });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    await api.run(pipeline.id);
  }

  const errors = pageErrors(page);
  await openPipeline(page, pipeline.id);
  const card = page.locator(`#fusionpipe-pipeline-${pipeline.id}`).getByTestId('fp-node');
  await expect(card).not.toHaveClass(/fp-node-stack/);
  await expect(card.getByTestId('fp-node-items')).toHaveCount(0);
  const entry = await menuEntry(page, card, 'compare');
  await expect(entry).toHaveText('Compare runs…');
  await entry.click();

  const compare = page.locator(`#fusionpipe-compare-${node.id}`);
  await expect(compare.locator('[data-testid="fp-compare-by"][data-by="runs"]')).toHaveAttribute(
    'aria-checked',
    'true',
  );
  const rows = compare.getByTestId('fp-compare-row');
  await expect(rows).toHaveCount(3);
  await compare.locator('[data-testid="fp-compare-sort"][data-column="values.lr"]').click();
  await expect(rows.locator('td:nth-child(3)')).toHaveText(['0.1', '0.2', '0.3']);
  await expect(rows.locator('td:nth-child(4)')).toHaveText(['0.9', '0.8', '0.7']);
  // loss against lr: three points on a line.
  const plot = compare.getByTestId('fp-compare-plot');
  await expect(compare.getByTestId('fp-compare-x')).toHaveValue('values.lr');
  await expect(plot.locator('[aria-label="dot"] circle')).toHaveCount(3);
  await expect(plot.locator('[aria-label="line"] path')).toHaveCount(1);
  await page.screenshot({ path: 'screenshots/compare-runs.png' });
  expect(errors).toEqual([]);
});
