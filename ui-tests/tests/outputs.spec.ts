import { expect, test } from '@jupyterlab/galata';

import { openPipeline, pageErrors, rest } from './fusionpipe';

// A node that makes results of every kind the inspector previews: a PNG plot (drawn with the
// standard library only), an SVG whose script must never run, a CSV table, a text file, an HTML
// and a notebook report, and many small files to overflow the listing.
const MAKE_OUTPUTS = `import json, struct, zlib
from pathlib import Path
import fusionpipe

data, reports = fusionpipe.data_dir(), fusionpipe.reports_dir()

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

width = height = 64
rows = b"".join(
    b"\\x00" + b"".join(bytes((4 * x, 255 - 4 * y, 128)) for x in range(width))
    for y in range(height)
)
png = (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
(Path(reports) / "plot.png").write_bytes(png)
(Path(reports) / "diagram.svg").write_text(
    '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40">'
    '<script>window.top.fpSvgScriptRan = true</script>'
    '<rect width="80" height="40" fill="#3070c0"/><circle cx="40" cy="20" r="12" fill="#f0c020"/></svg>'
)
(Path(data) / "table.csv").write_text("shot,te,ne\\n1,2.5,\\"3,1\\"\\n2,2.7,3.4\\n" + "3,2.9,3.8\\n" * 50)
(Path(data) / "notes.txt").write_text("calibration done\\nsecond line\\n")
(Path(reports) / "summary.html").write_text("<h1>Summary of the fit</h1>")
(Path(reports) / "analysis.ipynb").write_text(json.dumps({
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Report notebook"]}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5}))
many = Path(data) / "many"
many.mkdir(exist_ok=True)
for index in range(230):
    (many / f"part-{index:03d}.bin").write_bytes(b"x" * index)
`;

test('the inspector lists outputs with thumbnails, heads and reports to open', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, nodes } = await api.newPipeline('outputs-project', 'outputs-pipe', ['plotter']);
  const [node] = nodes;
  const { lab_path: labPath } = await api.get(`nodes/${node.id}`);
  await api.writeMain(labPath, MAKE_OUTPUTS);
  await api.run(pipeline.id);

  const errors = pageErrors(page);
  let listings = 0;
  page.on('request', (sent) => {
    // The lab adds a query to GET requests against caching.
    if (new URL(sent.url()).pathname.endsWith(`/nodes/${node.id}/outputs`)) {
      listings++;
    }
  });
  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await view.getByTestId('fp-node').click();
  const inspector = view.getByTestId('fp-inspector');
  await expect(inspector.getByTestId('fp-inspector-status')).toHaveText('completed');
  // Lazy: nothing is listed until the section is opened.
  const section = inspector.getByTestId('fp-inspector-outputs');
  await expect(section).not.toHaveAttribute('open');
  expect(listings).toBe(0);
  await section.locator('summary').click();
  await expect.poll(() => listings).toBe(1);

  const outputs = section.getByTestId('fp-output');
  await expect(outputs).toHaveCount(200);
  await expect(section.getByTestId('fp-outputs-more')).toHaveText('and 36 more');
  // The folders' own files come first, with their sizes; then the subfolder's.
  await expect(outputs.nth(0)).toHaveAttribute('data-path', 'data/notes.txt');
  await expect(outputs.nth(1)).toHaveAttribute('data-path', 'data/table.csv');
  await expect(outputs.filter({ hasText: 'data/many/part-010.bin' })).toContainText('10 B');

  // Thumbnails: the PNG and the SVG are drawn (a real picture, not a broken image) once they
  // are scrolled into view, and not before.
  const last = section.locator('[data-path="data/many/part-199.bin"]');
  expect(await last.locator('.fp-preview').count()).toBe(0);
  for (const name of ['plot.png', 'diagram.svg']) {
    const entry = section.locator(`[data-path="reports/${name}"]`);
    await entry.scrollIntoViewIfNeeded();
    const thumbnail = entry.getByTestId('fp-output-thumbnail');
    await expect(thumbnail).toBeVisible();
    await expect
      .poll(() => thumbnail.evaluate((image: HTMLImageElement) => image.naturalWidth))
      .toBeGreaterThan(0);
  }
  expect(await page.evaluate(() => 'fpSvgScriptRan' in window)).toBe(false);
  // The head of the CSV as a table (a quoted comma stays in its cell), and of the text file.
  const csv = section.locator('[data-path="data/table.csv"]').getByTestId('fp-output-head');
  await expect(csv.locator('tr')).toHaveCount(8);
  await expect(csv.locator('tr').nth(1).locator('td')).toHaveText(['1', '2.5', '3,1']);
  await expect(
    section.locator('[data-path="data/notes.txt"]').getByTestId('fp-output-head'),
  ).toContainText('calibration done');
  await section.locator('[data-path="reports/plot.png"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/outputs.png' });

  // Reports open in the lab: the HTML file and the notebook, in their own tabs.
  await section.locator('[data-path="reports/summary.html"]').getByTestId('fp-output-open').click();
  const tabs = page.locator('#jp-main-dock-panel .lm-TabBar-tab');
  await expect(tabs.filter({ hasText: 'summary.html' })).toHaveCount(1);
  await page.activity.activateTab('outputs-pipe');
  await section
    .locator('[data-path="reports/analysis.ipynb"]')
    .getByTestId('fp-output-open')
    .click();
  await expect(tabs.filter({ hasText: 'analysis.ipynb' })).toHaveCount(1);
  await expect(page.locator('.jp-NotebookPanel').filter({ visible: true })).toContainText(
    'Report notebook',
  );

  // Clearing the outputs empties data/ (reports stay): the open section lists them again.
  await page.activity.activateTab('outputs-pipe');
  const before = listings;
  await api.post(`pipelines/${pipeline.id}/clear-outputs`, { node_ids: [node.id] });
  await expect(outputs).toHaveCount(4);
  await expect(outputs.first()).toHaveAttribute('data-path', 'reports/analysis.ipynb');
  await expect(section.getByTestId('fp-outputs-more')).toHaveCount(0);
  expect(listings).toBeGreaterThan(before);
  expect(errors).toEqual([]);
});
