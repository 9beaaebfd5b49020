// A Svelte action drawing one of JupyterLab's icons, which follow the theme's icon colours.
import type { LabIcon } from '@jupyterlab/ui-components';

export function labIcon(node: HTMLElement, icon: LabIcon): { destroy: () => void } {
  icon.element({ container: node, height: '14px', width: '14px' });
  return { destroy: () => node.replaceChildren() };
}
