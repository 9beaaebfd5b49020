// How long a pipeline's Runs view takes to open with 1,000 runs in its history: from the show
// runs command to the first page of rows drawn, painted. Against the same view of a pipeline
// with one run (the floor: the widget, two requests and the first draw) in the same browser.
// Writes the samples, in seconds, to runs-view.json in the folder FUSIONPIPE_BENCH_OUT names.
import { test } from '@jupyterlab/galata';

import { rest } from '../tests/fusionpipe';
import { compareWithFloor, timeOpening } from './measure';

const RUNS = 1000;
const ENDED = /completed|failed|cancelled/;

test('open the Runs view of a pipeline with 1,000 runs', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: 'bench-runs-project' });
  const pipelineWith = async (tag: string, runs: number): Promise<string> => {
    const pipeline = await api.post('pipelines', { project_id: project.id, tag });
    await api.addNodes(pipeline.id, ['load', 'fit'], [[0, 1]]);
    // The first run runs both nodes; the next ones find them done, so they may overlap.
    await api.run(pipeline.id, ENDED);
    let last = '';
    for (let index = 1; index < runs; index++) {
      last = (await api.post(`pipelines/${pipeline.id}/runs`, {})).id;
    }
    if (last) {
      await api.finished(last, ENDED);
    }
    return pipeline.id;
  };
  const small = await pipelineWith('bench-runs-1', 1);
  const large = await pipelineWith(`bench-runs-${RUNS}`, RUNS);

  await compareWithFloor('runs-view', { runs: RUNS }, (isLarge) => {
    const pipelineId = isLarge ? large : small;
    return timeOpening(page, 'fusionpipe:show-runs', pipelineId, {
      widgetId: `fusionpipe-runs-${pipelineId}`,
      items: '[data-testid="fp-runs-row"]',
      expected: isLarge ? 50 : 1, // the first page of the large one
      counter: { selector: '[data-testid="fp-runs-count"]', says: 'of' },
    });
  });
});
