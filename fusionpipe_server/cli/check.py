"""One line of ``fusionpipe admin doctor``'s report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report. A warning is no failure (the exit status stays 0)
    but names something to fix."""

    name: str
    ok: bool
    detail: str
    warning: bool = False


def enterable_folder(path: Path) -> bool:
    """Whether ``path`` is a folder the user may look into: False, not an error, for one
    behind a folder they may not enter (mode 700 of another), which its own check reports."""
    try:
        return path.is_dir()
    except OSError:
        return False
