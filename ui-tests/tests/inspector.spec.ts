import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { openFromSidebar, pageErrors, rest } from './fusionpipe';

// A node that prints, works a while, then prints again: time for the log to be seen live.
const SLOW_MAIN = `import time
import fusionpipe
print(f"node {fusionpipe.node_id()} running with {fusionpipe.parameters()}", flush=True)
time.sleep(6)
print("finished", flush=True)
`;

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

/** Replace the text of the CodeMirror editor of the parameters. */
async function typeParameters(inspector: Locator, text: string): Promise<void> {
  const editor = inspector.getByTestId('fp-inspector-parameters').locator('.cm-content');
  await editor.click();
  await editor.press('ControlOrMeta+a');
  await editor.press('Delete');
  await editor.page().keyboard.insertText(text);
}

test('the inspector shows, edits, opens and follows the selected node', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, nodes: made } = await api.newPipeline('inspector-project', 'insp-pipeline', [
    { tag: 'prep', position: { x: 0, y: 0 } },
    { tag: 'train', position: { x: 0, y: 160 } },
  ]);
  const [prep] = made;
  const original = (await api.get(`nodes/${prep.id}/parameters`)).content;

  const errors = pageErrors(page);
  await openFromSidebar(page, 'inspector-project', 'insp-pipeline');

  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  const inspector = view.getByTestId('fp-inspector');
  const nodes = view.getByTestId('fp-node');
  await expect(nodes).toHaveCount(2);
  await expect(inspector).toContainText('Select a node');

  // The pane: dragging the divider narrows it; it collapses to a strip and comes back.
  const pane = view.locator('.fp-pane');
  const before = (await pane.boundingBox())!;
  const divider = (await view.getByRole('button', { name: /Resize the inspector/ }).boundingBox())!;
  await page.mouse.move(divider.x + 2, divider.y + 100);
  await page.mouse.down();
  await page.mouse.move(divider.x + 80, divider.y + 100, { steps: 5 });
  await page.mouse.up();
  expect((await pane.boundingBox())!.width).toBeCloseTo(before.width - 78, -1);
  await view.getByTestId('fp-inspector-collapse').click();
  await expect(inspector).toHaveCount(0);
  await view.getByTestId('fp-inspector-expand').click();
  await expect(inspector).toContainText('Select a node');

  // Selection: one node shows it, two show a summary.
  await nodes.filter({ hasText: 'prep' }).click();
  await expect(inspector.getByTestId('fp-inspector-tag')).toHaveValue('prep');
  await expect(inspector.getByTestId('fp-inspector-id')).toHaveText(prep.id);
  await expect(inspector.getByTestId('fp-inspector-status')).toHaveText('ready');
  await nodes.filter({ hasText: 'train' }).click({ modifiers: ['ControlOrMeta'] });
  await expect(inspector.getByTestId('fp-inspector-summary')).toHaveText('2 nodes selected');
  await view.locator('.svelte-flow__pane').click({ position: { x: 5, y: 5 } });
  await expect(inspector).toContainText('Select a node');
  await nodes.filter({ hasText: 'prep' }).click();
  await expect(inspector.getByTestId('fp-inspector-tag')).toHaveValue('prep');

  // Rename: saved on Enter, shown on the canvas.
  await inspector.getByTestId('fp-inspector-tag').fill('prepare');
  await inspector.getByTestId('fp-inspector-tag').press('Enter');
  await expect.poll(async () => (await api.get(`nodes/${prep.id}`)).tag).toBe('prepare');
  await expect(nodes.filter({ hasText: 'prepare' })).toHaveCount(1);
  // The canvas reloaded its graph: the node stays selected, so the inspector keeps showing it.
  await expect(inspector.getByTestId('fp-inspector-tag')).toHaveValue('prepare');

  // Notes: saved when the field loses focus.
  await inspector.getByTestId('fp-inspector-notes').fill('cleans the raw shots');
  await inspector.getByTestId('fp-inspector-notes').press('Tab');
  await expect
    .poll(async () => (await api.get(`nodes/${prep.id}`)).notes)
    .toBe('cleans the raw shots');

  // Parameters: invalid YAML is refused with the line, beside the editor; valid YAML is saved.
  await expect(inspector.getByTestId('fp-inspector-parameters')).toContainText('run_mode: local');
  await typeParameters(inspector, 'run_mode: local\nchannels: [ne, te\n');
  await inspector.getByTestId('fp-inspector-save-parameters').click();
  const problem = inspector.getByTestId('fp-inspector-parameters-error');
  await expect(problem).toContainText(/line \d+/);
  expect((await api.get(`nodes/${prep.id}/parameters`)).content).toBe(original);
  await typeParameters(inspector, 'run_mode: local\nscale: 2.5\n');
  await inspector.getByTestId('fp-inspector-save-parameters').click();
  await expect(problem).toHaveCount(0);
  await expect
    .poll(async () => (await api.get(`nodes/${prep.id}/parameters`)).content)
    .toBe('run_mode: local\nscale: 2.5\n');

  // Copy path: the clipboard holds the node folder.
  await inspector.getByTestId('fp-inspector-copy-path').click();
  await expect(page.locator('.Toastify').getByText(/Copied/)).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(prep.folder);
  await page.screenshot({ path: 'screenshots/inspector-node.png' });

  // Open folder: the file browser lists the node's code.
  await inspector.getByTestId('fp-inspector-open-folder').click();
  const browser = page.locator('#filebrowser');
  await expect(browser.locator('.jp-BreadCrumbs')).toContainText('code');
  await expect(browser.locator('.jp-DirListing-itemText').getByText('main.py')).toBeVisible();

  // Open notebook: a new notebook beside the code, on the node's kernel.
  await inspector.getByTestId('fp-inspector-open-notebook').click();
  const notebook = page.locator('.jp-NotebookPanel').filter({ visible: true });
  await expect(notebook).toHaveCount(1);
  // The status bar names the notebook's kernel (the toolbar may fold it away when narrow).
  await expect(page.locator('#jp-main-statusbar')).toContainText(
    `fusionpipe: prepare (${prep.id})`,
    {
      timeout: 30000,
    },
  );
  const { lab_path: labPath } = await api.get(`nodes/${prep.id}`);
  // Outside code/: an exploratory notebook is not part of the node's code.
  const notebookFiles = await request.get(`/api/contents/${labPath}/notebooks`);
  const names = (await notebookFiles.json()).content.map((file: { name: string }) => file.name);
  expect(names).toContain('analysis.ipynb');
  await page.activity.activateTab('insp-pipeline');

  // A run: the log tail follows what main.py prints while it runs; the history lists the run.
  await api.writeMain(labPath, SLOW_MAIN);
  await api.post(`pipelines/${pipeline.id}/runs`, { node_ids: [prep.id] });
  const status = inspector.getByTestId('fp-inspector-status');
  const log = inspector.getByTestId('fp-inspector-log');
  await expect(status).toHaveText('running', { timeout: 30000 });
  await expect(log).toContainText(`node ${prep.id} running with`);
  await expect(status).toHaveText('running'); // shown live, not once the run was over
  await expect(log).not.toContainText('finished');
  await expect(status).toHaveText('completed', { timeout: 60000 });
  await expect(log).toContainText('finished');
  const runs = inspector.getByTestId('fp-inspector-run');
  await expect(runs).toHaveCount(1);
  await expect(runs.first()).toHaveAttribute('data-status', 'completed');
  await runs.first().click();
  const source = inspector.getByTestId('fp-inspector-log-source');
  await expect(source).toHaveText(/^run r_/);
  await expect(log).toContainText(`node ${prep.id} running with`);
  await page.screenshot({ path: 'screenshots/inspector-run.png' });

  // Locked: the parameters become read-only, and say why.
  await inspector.getByTestId('fp-inspector-lock').click();
  await expect(inspector.getByTestId('fp-inspector-parameters-readonly')).toContainText('locked');
  await expect(inspector.getByTestId('fp-inspector-save-parameters')).toHaveCount(0);
  expect((await api.get(`nodes/${prep.id}`)).locked).toBe(true);
  await expect(source).toHaveText(/^run r_/); // the inspector kept its place through the reload

  // Dark theme: the inspector follows JupyterLab's colours.
  const colours = () =>
    inspector.evaluate((element) => {
      const style = getComputedStyle(element);
      return [style.backgroundColor, style.color];
    });
  const light = await colours();
  await page.theme.setDarkTheme();
  expect(await colours()).not.toEqual(light);
  await page.screenshot({ path: 'screenshots/inspector-run-dark.png' });
  expect(errors).toEqual([]);
});

test("Open notebook opens a notebook node's own main.ipynb on its kernel", async ({
  page,
  request,
}) => {
  const api = rest(request);
  const { pipeline, nodes } = await api.newPipeline('notebook-project', 'nb-pipeline', [
    { tag: 'explore', kind: 'notebook', position: { x: 0, y: 0 } },
  ]);
  const [node] = nodes;
  await openFromSidebar(page, 'notebook-project', 'nb-pipeline');
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await view.getByTestId('fp-node').click();
  const open = view.getByTestId('fp-inspector-open-notebook');
  await expect(open).toHaveAttribute('title', /main\.ipynb/);
  await open.click();

  await expect(page.locator('#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current')).toContainText(
    'main.ipynb',
  );
  await expect(page.locator('#jp-main-statusbar')).toContainText(`(${node.id})`, {
    timeout: 30000,
  });
  const { lab_path: labPath } = await api.get(`nodes/${node.id}`);
  // No exploratory notebook was made beside it.
  expect((await request.get(`/api/contents/${labPath}/notebooks`)).status()).toBe(404);
});
