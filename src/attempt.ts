// How the models call the server: a failure becomes a JupyterLab notification naming what could
// not be done, and what the server could do only in part comes back as warnings, shown too.
import { Notification } from '@jupyterlab/apputils';

import { ApiError } from './api';

/** What the server could do only in part (such as files of other users that a lock could not
 * make read-only) comes as `warnings` in its answer: shown, never hidden. */
function showWarnings(answer: unknown): void {
  if (Array.isArray(answer)) {
    answer.forEach(showWarnings);
    return;
  }
  const warnings = (answer as { warnings?: unknown } | null | undefined)?.warnings;
  if (Array.isArray(warnings)) {
    for (const warning of warnings) {
      Notification.warning(String(warning), { autoClose: false });
    }
  }
}

/** The action's answer, or undefined when it failed (and the user has been told why). */
export async function attempt<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
  try {
    const answer = await action();
    showWarnings(answer);
    return answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) {
      // A busy or restarting database: a moment's wait, not a failure of the user's action.
      const wait = error.retryAfter ? ` in ${error.retryAfter} s` : ' in a moment';
      Notification.warning(`Database busy, retrying: could not ${what} now; try again${wait}.`, {
        autoClose: 5000,
      });
      return undefined;
    }
    const message = error instanceof ApiError ? error.message : String(error);
    Notification.error(`fusionpipe could not ${what}: ${message}`, { autoClose: 8000 });
    return undefined;
  }
}
