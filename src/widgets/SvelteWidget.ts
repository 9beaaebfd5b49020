// A Lumino widget hosting a Svelte 5 component: mounted into the widget's node when created,
// unmounted when the widget is disposed.
import { Widget } from '@lumino/widgets';
import { type Component, mount, unmount } from 'svelte';

export class SvelteWidget<Props extends Record<string, unknown>> extends Widget {
  constructor(component: Component<Props>, props: Props) {
    super();
    this._instance = mount(component, { target: this.node, props });
  }

  dispose(): void {
    if (!this.isDisposed) {
      void unmount(this._instance);
    }
    super.dispose();
  }

  private readonly _instance: Record<string, unknown>;
}
