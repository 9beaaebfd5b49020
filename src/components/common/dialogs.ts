// The questions the panel asks, as JupyterLab dialogs (themed, keyboard friendly, modal): each
// resolves to the answer, or to null when the user cancels.
import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import './dialogs.css';

/** A dialog body built from plain DOM, whose answer `read` computes when the dialog closes. */
class FormBody<T> extends Widget implements Dialog.IBodyWidget<T> {
  constructor(build: (node: HTMLElement) => () => T) {
    super();
    this.addClass('fp-dialog-body');
    this.read = build(this.node);
  }

  getValue(): T {
    return this.read();
  }

  private readonly read: () => T;
}

function paragraph(parent: HTMLElement, text: string): HTMLElement {
  const element = document.createElement('p');
  element.textContent = text;
  parent.appendChild(element);
  return element;
}

/** What the user typed, without surrounding spaces; null when cancelled. */
export async function askText(
  title: string,
  label: string,
  text = '',
  okLabel = 'OK',
): Promise<string | null> {
  const answer = await InputDialog.getText({ title, label, text, okLabel });
  return answer.button.accept ? (answer.value ?? '').trim() : null;
}

export async function confirm(title: string, message: string, okLabel: string): Promise<boolean> {
  const answer = await showDialog({
    title,
    body: message,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: okLabel })],
  });
  return answer.button.accept;
}

/** Notes are several lines: a text area, not InputDialog's one-line input. */
export async function askNotes(title: string, notes: string): Promise<string | null> {
  const body = new FormBody((node) => {
    const area = document.createElement('textarea');
    area.className = 'jp-mod-styled fp-dialog-notes';
    area.rows = 8;
    area.value = notes;
    area.setAttribute('aria-label', 'Notes');
    area.dataset.testid = 'fp-notes-input';
    node.appendChild(area);
    return () => area.value;
  });
  const answer = await showDialog({
    title,
    body,
    focusNodeSelector: 'textarea',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save' })],
  });
  return answer.button.accept ? answer.value : null;
}

/** One of `choices` (shown by label), or null. */
export async function askChoice<T>(
  title: string,
  label: string,
  choices: readonly { label: string; value: T }[],
  okLabel: string,
): Promise<T | null> {
  const answer = await InputDialog.getItem({
    title,
    label,
    items: choices.map((c) => c.label),
    okLabel,
  });
  const chosen = choices.find((c) => c.label === answer.value);
  return answer.button.accept && chosen ? chosen.value : null;
}

/** Some of `choices`, ticked in a list of checkboxes; null when cancelled. */
export async function askChecked<T>(
  title: string,
  label: string,
  choices: readonly { label: string; value: T }[],
  okLabel: string,
): Promise<T[] | null> {
  const body = new FormBody((node) => {
    paragraph(node, label);
    const boxes = choices.map((choice) => {
      const row = document.createElement('label');
      row.className = 'fp-dialog-check';
      const box = document.createElement('input');
      box.type = 'checkbox';
      row.append(box, choice.label);
      node.appendChild(row);
      return box;
    });
    return () => choices.filter((_, index) => boxes[index].checked).map((c) => c.value);
  });
  const answer = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: okLabel })],
  });
  return answer.button.accept ? answer.value : null;
}

export async function askWithData(title: string): Promise<boolean | null> {
  const answer = await InputDialog.getBoolean({
    title,
    label: "Copy the nodes' data too",
    okLabel: 'Duplicate',
  });
  return answer.button.accept ? Boolean(answer.value) : null;
}

/**
 * A destructive action the user confirms by typing one of `accepted` (the name of what goes, or
 * the word `delete`). Typing anything else cancels it, and says so.
 */
export async function confirmTyped(
  title: string,
  lines: readonly string[],
  accepted: readonly string[],
  okLabel = 'Delete',
): Promise<boolean> {
  const body = new FormBody((node) => {
    for (const line of lines) {
      paragraph(node, line);
    }
    const prompt = paragraph(node, 'Type ');
    accepted.forEach((word, index) => {
      const name = document.createElement('strong');
      name.textContent = word;
      prompt.append(index ? ' or ' : '', name);
    });
    prompt.append(' to confirm.');
    const input = document.createElement('input');
    input.className = 'jp-mod-styled fp-dialog-confirm';
    input.setAttribute('aria-label', `Type ${accepted.join(' or ')} to confirm`);
    input.dataset.testid = 'fp-confirm-input';
    node.appendChild(input);
    return () => input.value.trim();
  });
  const answer = await showDialog({
    title,
    body,
    focusNodeSelector: 'input',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: okLabel })],
  });
  if (!answer.button.accept) {
    return false;
  }
  if (!accepted.includes(answer.value ?? '')) {
    const hint = accepted.map((word) => `"${word}"`).join(' or ');
    Notification.warning(`Nothing was deleted: you did not type ${hint}.`, { autoClose: 5000 });
    return false;
  }
  return true;
}
