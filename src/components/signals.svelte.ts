// How a component follows a Lumino model: the one bridge from a model's signal to Svelte runes.
import type { ISignal } from '@lumino/signaling';
import { untrack } from 'svelte';

/**
 * What `read` returns, kept current: read again each time `signal` fires, for as long as the
 * calling component lives. Call it while the component initialises.
 *
 * Both are functions so that a component following its `model` prop follows the new model when
 * the prop changes. `read` may return the model's own objects: the value changes when `read`
 * returns another object (models replace what they hold, they do not mutate it), so return a
 * fresh object (`{ ...fields }`) to be told of every emission.
 */
export function fromSignal<T>(
  signal: () => ISignal<unknown, unknown>,
  read: () => T,
): { readonly current: T } {
  let value = $state.raw(untrack(read));
  $effect(() => {
    const source = signal();
    // Untracked: a model may emit from inside another effect (a load started there), which
    // must not come to depend on what `read` reads.
    const update = (): void => {
      value = untrack(read);
    };
    source.connect(update);
    // The model may have changed between the first read and now (or be another model).
    update();
    return () => {
      source.disconnect(update);
    };
  });
  return {
    get current(): T {
      return value;
    },
  };
}
