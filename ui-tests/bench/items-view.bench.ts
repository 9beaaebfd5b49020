// How long the items of a 10,000-item node take to open in the inspector: from the click on the
// node to the first page of its items drawn, painted. Against a node of 4 items (the floor: the
// inspector's node, its runs and one page of items) on the same canvas. Writes the samples, in
// seconds, to items-view.json in the folder FUSIONPIPE_BENCH_OUT names.
import { expect, test } from '@jupyterlab/galata';

import { openPipeline, rest } from '../tests/fusionpipe';
import { compareWithFloor, timeAction } from './measure';

const SIDE = 100; // a grid of 100 x 100 values: 10,000 items

test('open the items of a 10,000-item node', async ({ page, request }) => {
  const api = rest(request);
  const {
    pipeline,
    nodes: [few, many],
  } = await api.newPipeline('bench-items-project', 'bench-items', [
    { tag: 'few', position: { x: 0, y: 0 } },
    { tag: 'many', position: { x: 300, y: 0 } },
  ]);
  await api.mapGrid(pipeline.id, few.id, 2);
  await api.mapGrid(pipeline.id, many.id, SIDE);

  await openPipeline(page, pipeline.id);
  const view = page.locator(`#fusionpipe-pipeline-${pipeline.id}`);
  await expect(view.getByTestId('fp-node')).toHaveCount(2);
  await compareWithFloor('items-view', { items: SIDE * SIDE }, async (isLarge) => {
    const card = view.locator(`.svelte-flow__node[data-id="${isLarge ? many.id : few.id}"]`);
    const seconds = await timeAction(page, () => card.click(), {
      widgetId: `fusionpipe-pipeline-${pipeline.id}`,
      items: '[data-testid="fp-item"]',
      expected: isLarge ? 50 : 4,
      counter: {
        selector: '[data-testid="fp-items-count"]',
        says: isLarge ? `of ${(SIDE * SIDE).toLocaleString('en')}` : 'of 4',
      },
    });
    // Nothing selected: the next click opens the items afresh.
    await view.locator('.svelte-flow__pane').click({ position: { x: 5, y: 5 } });
    await expect(view.getByTestId('fp-items')).toHaveCount(0);
    return seconds;
  });
});
