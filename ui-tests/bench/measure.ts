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
 * Seconds from executing the lab command `command` for the pipeline until its tab is drawn as
 * `drawn` says, painted (the frame after the last change is the one the user sees); the tab is
 * then closed, so that the next opening starts afresh.
 */
export function timeOpening(
  page: LabPage,
  command: string,
  pipelineId: string,
  drawn: Drawn,
): Promise<number> {
  return page.evaluate(
    async ({ command, pipelineId, drawn }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const app = (window as any).jupyterapp;
      const started = performance.now();
      await app.commands.execute(command, { pipelineId });
      const done = (): boolean => {
        const widget = document.getElementById(drawn.widgetId);
        const items = widget?.querySelectorAll<HTMLElement>(drawn.items) ?? [];
        const counter = drawn.counter;
        return (
          items.length === drawn.expected &&
          Array.from(items).every((item) => item.style.visibility !== 'hidden') &&
          (!counter ||
            !!widget?.querySelector(counter.selector)?.textContent?.includes(counter.says))
        );
      };
      await new Promise<void>((resolve) => {
        const poll = (): void => {
          if (done()) {
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
        if (widget.id === drawn.widgetId) {
          widget.dispose();
        }
      }
      return elapsed;
    },
    { command, pipelineId, drawn },
  );
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
