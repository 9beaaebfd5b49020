// How long a pipeline takes to open in the panel: from the open command to every node drawn at
// its measured size, painted. A 1,000-node pipeline against a 1-node one (the floor: the widget,
// the request and Svelte Flow's start) in the same browser. Writes the samples, in seconds, to
// open-pipeline.json in the folder FUSIONPIPE_BENCH_OUT names, for benchmarks/panel.py to print.
import { test } from '@jupyterlab/galata';

import { rest } from '../tests/fusionpipe';
import { compareWithFloor, timeOpening } from './measure';

const SIZE = 1000;

test('open a pipeline in the panel', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: 'bench-project' });
  const pipelineOf = async (tag: string, size: number): Promise<string> => {
    const pipeline = await api.post('pipelines', { project_id: project.id, tag });
    const nodes = [];
    const edges: [number, number][] = [];
    for (let index = 0; index < size; index++) {
      const position = { x: (index % 40) * 220, y: Math.floor(index / 40) * 120 };
      nodes.push({ tag: `n${index}`, position });
      if (index > 0 && index % 3 !== 0) {
        edges.push([index - 1, index]);
      }
    }
    await api.addNodes(pipeline.id, nodes, edges);
    return pipeline.id;
  };
  const small = await pipelineOf('bench-1', 1);
  const large = await pipelineOf(`bench-${SIZE}`, SIZE);

  await compareWithFloor('open-pipeline', { size: SIZE }, (isLarge) => {
    const pipelineId = isLarge ? large : small;
    return timeOpening(page, 'fusionpipe:open-pipeline', pipelineId, {
      widgetId: `fusionpipe-pipeline-${pipelineId}`,
      items: '.svelte-flow__node',
      expected: isLarge ? SIZE : 1,
    });
  });
});
