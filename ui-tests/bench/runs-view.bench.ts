// How long a pipeline's Runs view takes to open with 1,000 runs in its history: from the show
// runs command to the first page of rows drawn, painted. Against the same view of a pipeline
// with one run (the floor: the widget, two requests and the first draw) in the same browser.
// Writes the samples, in seconds, to runs-view.json in the folder FUSIONPIPE_BENCH_OUT names.
import { expect, test } from '@jupyterlab/galata';
import { writeFileSync } from 'fs';
import { join } from 'path';

const API = '/fusionpipe/api';
const RUNS = 1000;
const REPEAT = 5;

test('open the Runs view of a pipeline with 1,000 runs', async ({ page, request }) => {
  const post = async (path: string, data: object) => {
    const response = await request.post(`${API}/${path}`, { data });
    expect(response.status(), await response.text()).toBeLessThan(300);
    return response.json();
  };
  const finished = async (runId: string) => {
    await expect
      .poll(async () => (await (await request.get(`${API}/runs/${runId}`)).json()).status, {
        timeout: 60000,
        intervals: [50],
      })
      .toMatch(/completed|failed|cancelled/);
  };
  const project = await post('projects', { tag: 'bench-runs-project' });
  const pipelineWith = async (tag: string, runs: number): Promise<string> => {
    const pipeline = await post('pipelines', { project_id: project.id, tag });
    const load = await post(`pipelines/${pipeline.id}/nodes`, { tag: 'load' });
    const fit = await post(`pipelines/${pipeline.id}/nodes`, { tag: 'fit' });
    await post(`pipelines/${pipeline.id}/edges`, { source: load.id, target: fit.id });
    // The first run runs both nodes; the next ones find them done, so they may overlap.
    await finished((await post(`pipelines/${pipeline.id}/runs`, {})).id);
    let last = '';
    for (let index = 1; index < runs; index++) {
      last = (await post(`pipelines/${pipeline.id}/runs`, {})).id;
    }
    if (last) {
      await finished(last);
    }
    return pipeline.id;
  };
  const small = await pipelineWith('bench-runs-1', 1);
  const large = await pipelineWith(`bench-runs-${RUNS}`, RUNS);

  const open = (pipelineId: string, expected: number): Promise<number> =>
    page.evaluate(
      async ({ pipelineId, expected }) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const app = (window as any).jupyterapp;
        const started = performance.now();
        await app.commands.execute('fusionpipe:show-runs', { pipelineId });
        const drawn = (): boolean => {
          const widget = document.getElementById(`fusionpipe-runs-${pipelineId}`);
          const rows = widget?.querySelectorAll('[data-testid="fp-runs-row"]') ?? [];
          const count = widget?.querySelector('[data-testid="fp-runs-count"]');
          return rows.length === expected && !!count?.textContent?.includes('of');
        };
        await new Promise<void>((resolve) => {
          const poll = (): void => {
            if (drawn()) {
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
          if (widget.id === `fusionpipe-runs-${pipelineId}`) {
            widget.dispose();
          }
        }
        return elapsed;
      },
      { pipelineId, expected },
    );

  await open(small, 1); // the first open loads the view's code: not what is measured
  const floor: number[] = [];
  const samples: number[] = [];
  for (let round = 0; round < REPEAT; round++) {
    floor.push(await open(small, 1));
    samples.push(await open(large, 50));
  }
  const out = process.env.FUSIONPIPE_BENCH_OUT;
  if (out) {
    writeFileSync(join(out, 'runs-view.json'), JSON.stringify({ runs: RUNS, floor, samples }));
  }
  expect(samples).toHaveLength(REPEAT);
});
