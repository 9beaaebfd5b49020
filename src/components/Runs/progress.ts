// How the toolbar words a run's progress: pure functions of the run and the time, so the numbers
// tick between server updates without asking the server again.
import type { RunWithProgress } from '../../api';
import { elapsed } from '../Canvas/clock';

export const ACTIVE = ['queued', 'running'];

export interface ProgressText {
  /** "3 of 10 nodes". */
  count: string;
  /** mm:ss since the run started (or how long it took, once ended). */
  time: string;
  /** "about 01:05 left", or "" when there is nothing to estimate from. */
  left: string;
}

/** `mm:ss` (or `h:mm:ss`) of a number of seconds. */
export function clockTime(seconds: number): string {
  return elapsed(new Date(0).toISOString(), Math.max(0, seconds) * 1000);
}

/**
 * The run's progress at `now`. `fetchedAt` is when the server computed `run.progress`: its
 * estimate of the time left shrinks by the time since then, never below zero.
 */
export function describeProgress(
  run: RunWithProgress,
  now: number,
  fetchedAt: number,
): ProgressText {
  const { done, total, eta_s: eta } = run.progress;
  const active = ACTIVE.includes(run.status);
  const since = (now - fetchedAt) / 1000;
  const seconds = active ? run.progress.elapsed_s + since : run.progress.elapsed_s;
  return {
    count: `${done} of ${total} node${total === 1 ? '' : 's'}`,
    time: clockTime(seconds),
    left: active && eta !== null ? `about ${clockTime(Math.max(0, eta - since))} left` : '',
  };
}
