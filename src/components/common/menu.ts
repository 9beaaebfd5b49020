// Context menu entries and where the menu goes: pure, the component only draws them.

export interface MenuItem {
  label: string;
  run: () => unknown;
  /** Stable name for tests (`fp-menu-<id>`). */
  id?: string;
  /** Why the entry cannot be used now: it is then greyed out, with this as its tooltip. */
  disabled?: string;
  shortcut?: string;
  /** Destroys something: drawn in the error colour. */
  danger?: boolean;
}

/** An entry, a small title over the entries that follow, or a line between groups of them. */
export type MenuEntry = MenuItem | { heading: string } | 'separator';

/** The menu's top-left corner: at the pointer, moved back inside the window if it would overflow. */
export function placeMenu(
  at: { x: number; y: number },
  menu: { width: number; height: number },
  view: { width: number; height: number },
): { x: number; y: number } {
  return {
    x: Math.max(0, Math.min(at.x, view.width - menu.width)),
    y: Math.max(0, Math.min(at.y, view.height - menu.height)),
  };
}
