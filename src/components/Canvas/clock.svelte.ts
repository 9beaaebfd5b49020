// One ticking clock per canvas, shared by every running node's elapsed-time label: a single
// 1 s timer however many nodes run, and none while nothing runs.
import { getContext, setContext } from 'svelte';

export class Clock {
  now = $state(Date.now());

  /** Ticks while `on`; call again whenever that changes. */
  tick(on: boolean): void {
    if (on && !this._timer) {
      this.now = Date.now();
      this._timer = window.setInterval(() => (this.now = Date.now()), 1000);
    } else if (!on && this._timer) {
      window.clearInterval(this._timer);
      this._timer = 0;
    }
  }

  private _timer = 0;
}

const KEY = Symbol('fusionpipe-clock');

export function provideClock(clock: Clock): void {
  setContext(KEY, clock);
}

export function useClock(): Clock | undefined {
  return getContext<Clock | undefined>(KEY);
}

/** `mm:ss` (or `h:mm:ss` past an hour) since `startedAt`, never negative on a skewed clock. */
export function elapsed(startedAt: string, now: number): string {
  const total = Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000));
  const seconds = String(total % 60).padStart(2, '0');
  const minutes = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  return hours
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${String(minutes).padStart(2, '0')}:${seconds}`;
}
