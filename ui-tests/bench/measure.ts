// What the browser benchmarks share: timing how long a tab of the panel takes to be drawn, and
// the rounds that compare a large case with a small one (the floor). Not a benchmark itself: the
// bench config takes only *.bench.ts.
import { expect } from '@jupyterlab/galata';
import { writeFileSync } from 'fs';
import { join } from 'path';

import type { LabPage } from '../tests/fusionpipe';

const REPEAT = 5;

/**
 * When a tab counts as drawn: `expected` elements matching `items` in the element `widgetId`,
 * none of them hidden (Svelte Flow hides a node until it has measured it), and, if `counter` is
 * given, the element it selects there saying `says`.
 */
export interface Drawn {
  widgetId: string;
  items: string;
  expected: number;
  counter?: { selector: string; says: string };
}

/**
 * In the page: the time (`performance.now()`) of the first frame painted once `drawn` holds.
 * Self-contained, as Playwright runs it in the page.
 */
function drawnAt(drawn: Drawn): Promise<number> {
  const done = (): boolean => {
    const widget = document.getElementById(drawn.widgetId);
    const items = widget?.querySelectorAll<HTMLElement>(drawn.items) ?? [];
    const counter = drawn.counter;
    return (
      items.length === drawn.expected &&
      Array.from(items).every((item) => item.style.visibility !== 'hidden') &&
      (!counter || !!widget?.querySelector(counter.selector)?.textContent?.includes(counter.says))
    );
  };
  return new Promise<number>((resolve) => {
    const poll = (): void => {
      if (done()) {
        // The frame after the last change is the one the user sees.
        requestAnimationFrame(() => resolve(performance.now()));
      } else {
        requestAnimationFrame(poll);
      }
    };
    poll();
  });
}

/** Seconds from just before `act` (a command, a click) until the page is drawn as `drawn` says,
 * painted; timed by the page's own clock. */
export async function timeAction(
  page: LabPage,
  act: () => Promise<unknown>,
  drawn: Drawn,
): Promise<number> {
  const started = await page.evaluate(() => performance.now());
  await act();
  return ((await page.evaluate(drawnAt, drawn)) - started) / 1000;
}

/**
 * Seconds from executing the lab command `command` for the pipeline until its tab is drawn as
 * `drawn` says; the tab is then closed, so that the next opening starts afresh.
 */
export async function timeOpening(
  page: LabPage,
  command: string,
  pipelineId: string,
  drawn: Drawn,
): Promise<number> {
  const run = () =>
    page.evaluate(
      async ({ command, pipelineId }) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        await (window as any).jupyterapp.commands.execute(command, { pipelineId });
      },
      { command, pipelineId },
    );
  const elapsed = await timeAction(page, run, drawn);
  await page.evaluate((widgetId) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const shell = (window as any).jupyterapp.shell;
    for (const widget of Array.from(shell.widgets('main')) as { id: string; dispose(): void }[]) {
      if (widget.id === widgetId) {
        widget.dispose();
      }
    }
  }, drawn.widgetId);
  return elapsed;
}

/**
 * Opens the small case once (that loads the code: not what is measured), then the small and the
 * large case in turn, five times each; writes `{...about, floor, samples}` (the small and the
 * large timings, in seconds) as `<name>.json` to the folder FUSIONPIPE_BENCH_OUT names, for
 * benchmarks/panel.py to print.
 */
export async function compareWithFloor(
  name: string,
  about: Record<string, number>,
  open: (large: boolean) => Promise<number>,
): Promise<void> {
  await open(false);
  const floor: number[] = [];
  const samples: number[] = [];
  for (let round = 0; round < REPEAT; round++) {
    floor.push(await open(false));
    samples.push(await open(true));
  }
  const out = process.env.FUSIONPIPE_BENCH_OUT;
  if (out) {
    writeFileSync(join(out, `${name}.json`), JSON.stringify({ ...about, floor, samples }));
  }
  expect(samples).toHaveLength(REPEAT);
}
