// The documentation's tutorial (docs/tutorial/first-pipeline.md), step by step as a person takes
// it, with the panel's own words; the pictures it saves are the tutorial's.
import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { pageErrors, rest, unique, flowNode, drag } from './fusionpipe';

// Room for the canvas beside the sidebar and the node inspector.
test.use({ viewport: { width: 1440, height: 900 } });

const NUMBERS = (values: string) => `import fusionpipe

# Outputs go to the node's data/ folder.
numbers = [${values}]
(fusionpipe.data_dir() / "numbers.txt").write_text("\\n".join(map(str, numbers)) + "\\n")
print("wrote", numbers)
`;

const TOTAL = `import fusionpipe

# The parent connected to input "01" and its outputs.
numbers = (fusionpipe.parent("01").data_dir / "numbers.txt").read_text().split()
total = sum(int(n) for n in numbers)
(fusionpipe.data_dir() / "total.txt").write_text(f"{total}\\n")
print("total", total)
`;

const PER_SHOT = `import fusionpipe

shot = fusionpipe.item()["shot"]  # this item's values
numbers = (fusionpipe.parent("01").data_dir / "numbers.txt").read_text().split()
result = shot * sum(int(n) for n in numbers)
(fusionpipe.data_dir() / "result.txt").write_text(f"{result}\\n")  # data/shot=30101/...
fusionpipe.metrics(result=result)  # a column of the Compare view
`;

test('a first pipeline in ten minutes, as the tutorial tells it', async ({ page, request }) => {
  const api = rest(request);
  const errors = pageErrors(page);

  // 2. A project and a pipeline, made in the panel.
  const projectTag = unique('tutorial');
  await page.sidebar.openTab('fusionpipe-sidebar');
  const panel = page.locator('#fusionpipe-sidebar');
  await panel.getByPlaceholder('Name', { exact: true }).fill(projectTag);
  await panel.getByRole('button', { name: 'New project' }).click();
  const project = panel.getByTestId('fp-project').filter({ hasText: projectTag });
  await project.click();
  await expect(project).toContainText('No pipelines yet.');
  await project.getByPlaceholder('New pipeline').fill('first');
  await project.getByRole('button', { name: 'Add', exact: true }).click();
  await project.getByTestId('fp-pipeline').filter({ hasText: 'first' }).click();
  const projects: { id: string; tag: string }[] = (await api.get('projects')).projects;
  const [pipeline] = await api.pipelines(projects.find((p) => p.tag === projectTag)!.id);
  const pipelineId = pipeline.id;
  const canvas = page.locator(`#fusionpipe-pipeline-${pipelineId}`);
  await expect(canvas.getByTestId('fp-canvas')).toBeVisible();

  // 3. Two python nodes, renamed from their menu; their code written as the lab's editor saves.
  const nodeIds: string[] = [];
  async function addNode(name: string): Promise<Locator> {
    await expect(canvas.getByTestId('fp-node-kind')).toHaveValue('python');
    await canvas.getByRole('button', { name: 'Add node' }).click();
    await expect(canvas.getByTestId('fp-node')).toHaveCount(nodeIds.length + 1);
    const made = (await api.graph(pipelineId)).nodes.find((n) => !nodeIds.includes(n.id))!;
    nodeIds.push(made.id);
    const node = flowNode(canvas, made.id);
    await expect(node.getByTestId('fp-node')).toHaveAttribute('data-status', 'ready');
    await node.click({ button: 'right' });
    await page.getByTestId('fp-context-menu').getByRole('menuitem', { name: 'Rename…' }).click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.locator('input').fill(name);
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect(node).toContainText(name);
    return node;
  }
  // Auto layout puts each parent above its children, and the view is fitted to the result.
  async function layOut(): Promise<void> {
    await canvas.getByRole('button', { name: 'Auto layout' }).click();
    const below = async () => {
      const top = (await numbers.boundingBox())!;
      return (await total.boundingBox())!.y > top.y + top.height;
    };
    await expect.poll(below).toBe(true);
    await canvas.getByRole('button', { name: 'Fit view', exact: true }).click();
  }
  const writeMain = async (id: string, code: string) =>
    api.writeMain((await api.get(`nodes/${id}`)).lab_path, code);

  const numbers = await addNode('numbers');
  const total = await addNode('total');
  const [numbersId, totalId] = nodeIds;
  await numbers.click();
  const inspector = canvas.getByTestId('fp-inspector');
  await expect(inspector.getByRole('button', { name: 'Open folder' })).toBeVisible();
  await writeMain(numbersId, NUMBERS('1, 2, 3, 4'));
  await writeMain(totalId, TOTAL);

  // 4. Connected by a drag from the bottom handle of one to the top handle of the other.
  await drag(
    page,
    numbers.locator('.svelte-flow__handle.source'),
    total.locator('.svelte-flow__handle.target'),
  );
  await expect(canvas.locator('.svelte-flow__edge-label').getByText('01')).toBeVisible();
  await layOut();

  // 5. Run: both green, in order.
  await canvas.getByRole('button', { name: 'Run pipeline' }).click();
  for (const node of [numbers, total]) {
    await expect(node.getByTestId('fp-node')).toHaveAttribute('data-status', 'completed', {
      timeout: 60000,
    });
  }
  await total.click();
  await expect(inspector.getByTestId('fp-inspector-log')).toContainText('total 10');
  await page.screenshot({ path: 'screenshots/tutorial-run.png' });

  // 6. The outputs: data/total.txt and its first lines.
  const outputs = inspector.getByTestId('fp-inspector-outputs');
  await outputs.locator('summary').click();
  const file = outputs.locator('[data-path="data/total.txt"]');
  await expect(file.getByTestId('fp-output-head')).toContainText('10');
  await outputs.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/tutorial-outputs.png' });

  // 7. A change makes both stale, with their reasons; changed back, the cache has the outputs.
  await writeMain(numbersId, NUMBERS('1, 2, 3, 4, 5'));
  for (const [node, reason] of [
    [numbers, 'code/main.py changed'],
    [total, 'numbers is stale'],
  ] as const) {
    await expect(node.getByTestId('fp-node')).toHaveAttribute('data-status', 'staledata', {
      timeout: 30000,
    });
    await expect(node.getByTestId('fp-stale-reasons')).toHaveAttribute('title', new RegExp(reason));
  }
  await api.run(pipelineId);
  await writeMain(numbersId, NUMBERS('1, 2, 3, 4'));
  await expect(numbers.getByTestId('fp-node')).toHaveAttribute('data-status', 'staledata', {
    timeout: 30000,
  });
  await canvas.getByRole('button', { name: 'Run pipeline' }).click();
  await expect(total.getByTestId('fp-node')).toHaveAttribute('data-status', 'completed', {
    timeout: 60000,
  });
  for (const node of [numbers, total]) {
    await node.click();
    await expect(inspector.getByTestId('fp-inspector-made-by')).toContainText('restored from run');
  }

  // 8. A mapped node: parameters edited and saved in the inspector, one item per shot.
  const perShot = await addNode('per shot');
  const perShotId = nodeIds[2];
  await drag(
    page,
    numbers.locator('.svelte-flow__handle.source'),
    perShot.locator('.svelte-flow__handle.target'),
  );
  await expect(canvas.locator('.svelte-flow__edge')).toHaveCount(2);
  await layOut();
  await perShot.click();
  const editor = inspector.getByTestId('fp-inspector-parameters').locator('.cm-content');
  await editor.click();
  await editor.press('ControlOrMeta+a');
  await editor.press('Delete');
  await page.keyboard.insertText('map:\n  shot: [30101, 30102, 30103]\n');
  await inspector.getByRole('button', { name: 'Save' }).click();
  await expect
    .poll(async () => (await api.get(`nodes/${perShotId}/parameters`)).content)
    .toContain('shot: [30101, 30102, 30103]');
  await writeMain(perShotId, PER_SHOT);
  await canvas.getByRole('button', { name: 'Run pipeline' }).click();
  const card = perShot.getByTestId('fp-node');
  await expect(card).toHaveAttribute('data-status', 'completed', { timeout: 60000 });
  await expect(card.getByTestId('fp-node-items-counts')).toHaveText('3 ✓ / 3');
  const items = inspector.getByTestId('fp-items');
  await expect(items.getByTestId('fp-item')).toHaveCount(3);
  await expect(items.getByTestId('fp-item').first()).toHaveAttribute('data-item', 'shot=30101');
  await expect(items.getByRole('button', { name: 'Compare' })).toBeVisible();
  await page.screenshot({ path: 'screenshots/tutorial-mapped.png' });
  const metrics = await api.get(`nodes/${perShotId}/metrics`);
  expect(JSON.stringify(metrics)).toContain('301010');
  expect(errors).toEqual([]);
});
