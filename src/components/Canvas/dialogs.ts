// The questions the canvas asks, as JupyterLab dialogs (themed, keyboard friendly, modal).
import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import type { Pipeline } from '../../api';

/** A message and a text field; the dialog's value is what was typed. */
class TypedConfirmation extends Widget implements Dialog.IBodyWidget<string> {
  constructor(lines: readonly string[], placeholder: string) {
    super();
    this.addClass('fp-typed-confirmation');
    for (const line of lines) {
      const paragraph = document.createElement('p');
      paragraph.textContent = line;
      this.node.appendChild(paragraph);
    }
    this._input.className = 'jp-mod-styled';
    this._input.placeholder = placeholder;
    this._input.setAttribute('aria-label', placeholder);
    this._input.style.width = '100%';
    this.node.appendChild(this._input);
  }

  getValue(): string {
    return this._input.value.trim();
  }

  private readonly _input = document.createElement('input');
}

/**
 * Asks before something that cannot be undone: the user must type one of `accepted` (a tag, or
 * the word `delete`). Anything else cancels, and says so.
 */
export async function confirmTyped(
  title: string,
  lines: readonly string[],
  accepted: readonly string[],
  action = 'Delete',
): Promise<boolean> {
  const hint = accepted.map((word) => `"${word}"`).join(' or ');
  const body = new TypedConfirmation([...lines, `Type ${hint} to confirm.`], accepted[0]);
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: action })],
    focusNodeSelector: 'input',
  });
  if (!result.button.accept) {
    return false;
  }
  if (!accepted.includes(result.value ?? '')) {
    Notification.warning(`Nothing was deleted: you did not type ${hint}.`, { autoClose: 5000 });
    return false;
  }
  return true;
}

export async function confirm(title: string, message: string, action: string): Promise<boolean> {
  const result = await showDialog({
    title,
    body: message,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: action })],
  });
  return result.button.accept;
}

/** A name typed by the user, or null when cancelled or left empty. */
export async function askText(title: string, label: string, text = ''): Promise<string | null> {
  const result = await InputDialog.getText({ title, label, text, okLabel: 'OK' });
  const value = result.value?.trim();
  return result.button.accept && value ? value : null;
}

export async function pickPipeline(
  title: string,
  pipelines: readonly Pipeline[],
): Promise<Pipeline | null> {
  if (!pipelines.length) {
    Notification.info('This project has no other pipeline to copy into.', { autoClose: 5000 });
    return null;
  }
  // Tags are unique, but the id makes the choice unambiguous for pipelines without one.
  const label = (pipeline: Pipeline) => `${pipeline.tag || '(no tag)'} — ${pipeline.id}`;
  const result = await InputDialog.getItem({
    title,
    label: 'Target pipeline',
    items: pipelines.map(label),
    okLabel: 'OK',
  });
  if (!result.button.accept) {
    return null;
  }
  return pipelines.find((pipeline) => label(pipeline) === result.value) ?? null;
}
