import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';

import { API, pageErrors } from './fusionpipe';

interface Pipeline {
  id: string;
  tag: string;
  project_id: string;
}

async function pipelines(request: APIRequestContext): Promise<Pipeline[]> {
  const response = await request.get(`${API}/pipelines`);
  expect(response.status()).toBe(200);
  return (await response.json()).pipelines;
}

/** The pipeline that appears after `action`, once it has appeared. */
async function madeBy(request: APIRequestContext, action: () => Promise<void>): Promise<Pipeline> {
  const before = new Set((await pipelines(request)).map((p) => p.id));
  await action();
  let made: Pipeline[] = [];
  await expect(async () => {
    made = (await pipelines(request)).filter((p) => !before.has(p.id));
    expect(made).toHaveLength(1);
  }).toPass({ timeout: 30000 });
  return made[0];
}

/** The example's canvas, open in the main area, with its four nodes at a readable size. */
async function expectExampleCanvas(page: IJupyterLabPageFixture, pipeline: Pipeline) {
  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await expect(canvas).toBeVisible();
  const nodes = canvas.getByTestId('fp-node');
  await expect(nodes).toHaveCount(4);
  for (const tag of ['make data', 'fit', 'plot', 'report']) {
    const node = nodes.filter({ hasText: tag });
    await expect(node.first()).toHaveAttribute('data-status', 'ready');
    expect((await node.first().boundingBox())!.width).toBeGreaterThan(100);
  }
  return canvas;
}

test('with no project, the sidebar explains what to do and offers the example', async ({
  page,
  request,
}) => {
  // Start from an empty installation, as a new user does.
  const listed = await request.get(`${API}/projects`);
  for (const project of (await listed.json()).projects) {
    const gone = await request.delete(`${API}/projects/${project.id}?cascade=true`);
    expect(gone.status()).toBe(204);
  }
  await page.reload();
  await page.sidebar.openTab('fusionpipe-sidebar');
  const sidebar = page.locator('#fusionpipe-sidebar');
  const welcome = sidebar.getByTestId('fp-project-empty');
  await expect(welcome).toContainText('No projects yet');
  await expect(welcome).toContainText('Or try the example');
  await page.screenshot({ path: 'screenshots/example-empty-sidebar.png' });

  const pipeline = await madeBy(request, () => sidebar.getByTestId('fp-create-example').click());
  expect(pipeline.tag).toBe('example');
  await expectExampleCanvas(page, pipeline);
  // The new project is listed in place of the welcome.
  await expect(sidebar.getByTestId('fp-project').filter({ hasText: 'example' })).toHaveCount(1);
  await expect(welcome).toBeHidden();

  // The palette command does the same.
  const again = await madeBy(request, async () => {
    await page.keyboard.press('Control+Shift+C');
    const palette = page.locator('#command-palette');
    await palette.locator('.lm-CommandPalette-input').fill('fusionpipe: New example pipeline');
    await page.keyboard.press('Enter');
  });
  expect(again.project_id).not.toBe(pipeline.project_id);
  await expectExampleCanvas(page, again);
});

test('the example made from the launcher runs from its canvas, every node green', async ({
  page,
  request,
}) => {
  test.setTimeout(300000); // the plot node's first run builds its matplotlib environment
  await page.setViewportSize({ width: 1400, height: 900 }); // the whole graph in the picture
  const errors = pageErrors(page);
  await page.menu.clickMenuItem('File>New Launcher');
  // Node kernels are named "fusionpipe: …" too: pick the section titled fusionpipe.
  const title = page.locator('.jp-Launcher-sectionTitle', { hasText: /^fusionpipe$/ });
  const section = page.locator('.jp-Launcher-section').filter({ has: title, visible: true });
  const card = section.locator('.jp-LauncherCard', { hasText: 'New example pipeline' });

  const pipeline = await madeBy(request, () => card.click());
  const canvas = await expectExampleCanvas(page, pipeline);
  await canvas.getByTestId('fp-run-pipeline').click();
  await expect(canvas.locator('[data-testid="fp-node"][data-status="completed"]')).toHaveCount(4, {
    timeout: 240000,
  });
  await page.screenshot({ path: 'screenshots/example-completed.png' });

  // What it made, as the nodes' code says.
  const graph = await (await request.get(`${API}/pipelines/${pipeline.id}`)).json();
  const report = graph.nodes.find((n: { tag: string }) => n.tag === 'report');
  const log = await (await request.get(`${API}/nodes/${report.id}/log`)).json();
  expect(log.content).toContain('report written: slope 2.');
  expect(errors).toEqual([]);
});
