// One ticking clock per canvas, shared by every running node's elapsed-time label. Its timer runs
// only while some label reads it (Svelte's createSubscriber starts it for the first reader and
// stops it after the last), so it is a single 1 s timer however many nodes run, and none while
// nothing runs.
import { getContext, setContext } from 'svelte';
import { createSubscriber } from 'svelte/reactivity';

export class Clock {
  /** The current time; reading it inside an effect or template redraws it every second. */
  get now(): number {
    this._subscribe();
    return Date.now();
  }

  private readonly _subscribe = createSubscriber((update) => {
    const timer = window.setInterval(update, 1000);
    return () => window.clearInterval(timer);
  });
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
