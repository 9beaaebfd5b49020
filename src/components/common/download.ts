// Saving something the panel made or fetched (an export, a CSV) as a download of the browser.

/** Hands `blob` to the browser as a file named `name`. */
export function download(blob: Blob, name: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started: the object URL can go with the next task.
  window.setTimeout(() => URL.revokeObjectURL(link.href));
}
