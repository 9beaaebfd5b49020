// JupyterLab's theme as Svelte Flow's colour mode: JupyterLab marks the page's body as light or
// not, and switching themes changes that mark.
import { createSubscriber } from 'svelte/reactivity';

const subscribe = createSubscriber((update) => {
  const observer = new MutationObserver(update);
  observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light'] });
  return () => observer.disconnect();
});

/** 'dark' or 'light'; read in a template, it redraws when the user switches themes. */
export function colorMode(): 'light' | 'dark' {
  subscribe();
  return document.body.dataset.jpThemeLight === 'false' ? 'dark' : 'light';
}
