"""Whether an operating-system process still exists."""

from __future__ import annotations

import os


def is_alive(pid: int | None) -> bool:
    """True while ``pid`` exists, whoever owns it (another user's process counts as alive)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
