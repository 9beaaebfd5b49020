"""One line of ``fusionpipe admin doctor``'s report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report. A warning is no failure (the exit status stays 0)
    but names something to fix."""

    name: str
    ok: bool
    detail: str
    warning: bool = False
