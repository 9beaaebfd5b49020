import { expect, test } from '@jupyterlab/galata';

import { openFromSidebar, pageErrors, rest } from './fusionpipe';

const SIZE = 1000;

test.setTimeout(300000);

test('a 1,000-node pipeline opens and stays interactive', async ({ page, request }) => {
  const nodes = [];
  for (let index = 0; index < SIZE; index++) {
    const position = { x: (index % 40) * 220, y: Math.floor(index / 40) * 120 };
    nodes.push({ tag: `n${index}`, position });
  }
  const edges: [number, number][] = [];
  for (let index = 1; index < SIZE; index += 3) {
    edges.push([index - 1, index]);
  }
  const { pipeline } = await rest(request).newPipeline(
    'large-project',
    'large-pipeline',
    nodes,
    edges,
  );

  const errors = pageErrors(page);
  await openFromSidebar(page, 'large-project', 'large-pipeline');

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
