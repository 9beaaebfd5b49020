// How long a pipeline takes to open in the panel: from the open command to every node drawn at
// its measured size, painted. A 1,000-node pipeline against a 1-node one (the floor: the widget,
// the request and Svelte Flow's start) in the same browser. Writes the samples, in seconds, to
// open-pipeline.json in the folder FUSIONPIPE_BENCH_OUT names, for benchmarks/panel.py to print.
import { expect, test } from '@jupyterlab/galata';
import { writeFileSync } from 'fs';
import { join } from 'path';

const API = '/fusionpipe/api';
const SIZE = 1000;
const REPEAT = 5;

test('open a pipeline in the panel', async ({ page, request }) => {
  const post = async (path: string, data: object) => {
    const response = await request.post(`${API}/${path}`, { data });
    expect(response.status(), await response.text()).toBeLessThan(300);
    return response.json();
  };
  const project = await post('projects', { tag: 'bench-project' });
  const pipelineOf = async (tag: string, size: number): Promise<string> => {
    const pipeline = await post('pipelines', { project_id: project.id, tag });
    let previous: string | undefined;
    for (let index = 0; index < size; index++) {
      const position = { x: (index % 40) * 220, y: Math.floor(index / 40) * 120 };
      const node = await post(`pipelines/${pipeline.id}/nodes`, { tag: `n${index}`, position });
      if (previous && index % 3 !== 0) {
        await post(`pipelines/${pipeline.id}/edges`, { source: previous, target: node.id });
      }
      previous = node.id;
    }
    return pipeline.id;
  };
  const small = await pipelineOf('bench-1', 1);
  const large = await pipelineOf(`bench-${SIZE}`, SIZE);

  const open = (pipelineId: string, expected: number): Promise<number> =>
    page.evaluate(
      async ({ pipelineId, expected }) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const app = (window as any).jupyterapp;
        const started = performance.now();
        await app.commands.execute('fusionpipe:open-pipeline', { pipelineId });
        const drawn = (): boolean => {
          const widget = document.getElementById(`fusionpipe-pipeline-${pipelineId}`);
          const nodes = widget?.querySelectorAll<HTMLElement>('.svelte-flow__node') ?? [];
          return (
            nodes.length === expected &&
            Array.from(nodes).every((node) => node.style.visibility !== 'hidden')
          );
        };
        await new Promise<void>((resolve) => {
          const poll = (): void => {
            if (drawn()) {
              // The frame after the last change is the one the user sees.
              requestAnimationFrame(() => resolve());
            } else {
              requestAnimationFrame(poll);
            }
          };
          poll();
        });
        const elapsed = (performance.now() - started) / 1000;
        for (const widget of Array.from(app.shell.widgets('main')) as {
          id: string;
          dispose(): void;
        }[]) {
          if (widget.id === `fusionpipe-pipeline-${pipelineId}`) {
            widget.dispose();
          }
        }
        return elapsed;
      },
      { pipelineId, expected },
    );

  await open(small, 1); // the first open loads the canvas code: not what is measured
  const floor: number[] = [];
  const samples: number[] = [];
  for (let round = 0; round < REPEAT; round++) {
    floor.push(await open(small, 1));
    samples.push(await open(large, SIZE));
  }
  const out = process.env.FUSIONPIPE_BENCH_OUT;
  if (out) {
    writeFileSync(join(out, 'open-pipeline.json'), JSON.stringify({ size: SIZE, floor, samples }));
  }
  expect(samples).toHaveLength(REPEAT);
});
