import { expect, test } from '@jupyterlab/galata';

const API = '/fusionpipe/api';
const SIZE = 1000;

test.setTimeout(300000);

test('a 1,000-node pipeline opens and stays interactive', async ({ page, request }) => {
  const post = async (path: string, data: object) => {
    const response = await request.post(`${API}/${path}`, { data });
    expect(response.status(), await response.text()).toBeLessThan(300);
    return response.json();
  };
  const project = await post('projects', { tag: 'large-project' });
  const pipeline = await post('pipelines', { project_id: project.id, tag: 'large-pipeline' });
  const ids: string[] = [];
  for (let index = 0; index < SIZE; index++) {
    const position = { x: (index % 40) * 220, y: Math.floor(index / 40) * 120 };
    ids.push((await post(`pipelines/${pipeline.id}/nodes`, { tag: `n${index}`, position })).id);
  }
  for (let index = 1; index < SIZE; index += 3) {
    await post(`pipelines/${pipeline.id}/edges`, { source: ids[index - 1], target: ids[index] });
  }

  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.sidebar.openTab('fusionpipe-sidebar');
  const sidebar = page.locator('#fusionpipe-sidebar');
  await sidebar.getByTestId('fp-project').filter({ hasText: 'large-project' }).click();
  await sidebar.getByTestId('fp-pipeline').filter({ hasText: 'large-pipeline' }).click();

  const canvas = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await expect(canvas.getByTestId('fp-node')).toHaveCount(SIZE, { timeout: 60000 });
  // Interactive: a click on a node in view selects it.
  const flow = canvas.locator('.svelte-flow');
  const inView = await flow.evaluate((element) => {
    const area = element.getBoundingClientRect();
    const nodes = Array.from(element.querySelectorAll<HTMLElement>('.svelte-flow__node'));
    const shown = nodes.find((node) => {
      const box = node.getBoundingClientRect();
      return (
        box.left > area.left + 80 &&
        box.right < area.right - 220 &&
        box.top > area.top &&
        box.bottom < area.bottom - 180
      );
    });
    return shown?.dataset.id;
  });
  expect(inView).toBeTruthy();
  const node = canvas.locator(`.svelte-flow__node[data-id="${inView}"]`);
  await node.click();
  await expect(node).toHaveClass(/selected/);
  await page.screenshot({ path: 'screenshots/canvas-1000-nodes.png' });
  expect(errors).toEqual([]);
});
