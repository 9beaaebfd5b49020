// A Lumino widget hosting a Svelte 5 component: mounted the first time the widget is attached
// (so the component sees a node that is in the document and can measure it), unmounted when the
// widget is disposed.
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { type Component, mount, unmount } from 'svelte';

export class SvelteWidget<Props extends Record<string, unknown>> extends Widget {
  constructor(
    private readonly component: Component<Props>,
    private readonly props: Props,
  ) {
    super();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (this._instance) {
      void unmount(this._instance);
      this._instance = null;
    }
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    // A widget moved to another area is detached and attached again: keep the one component.
    this._instance ??= mount(this.component, { target: this.node, props: this.props });
  }

  private _instance: Record<string, unknown> | null = null;
}
