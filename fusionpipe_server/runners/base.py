"""What every backend is given and must offer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class NodeJob:
    """One node to execute: the command, where, with which environment, logging where."""

    run_id: str
    node_id: str
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    log_path: Path


class Execution(Protocol):
    """A started node."""

    pid: int | None
    # Whether the process goes on when the server stops (to be taken back by the next one).
    outlives_server: bool
    # Ended with no exit code to say how (it ended while no server watched it).
    lost: bool

    async def wait(self) -> int:
        """Wait for the end; the exit code (negative: killed by that signal)."""
        ...

    async def kill(self) -> None:
        """End the node and every process it started."""
        ...


class NodeRunner(Protocol):
    name: str

    async def start(self, job: NodeJob) -> Execution: ...

    def take_back(self, pid: int, log_path: Path) -> Execution:
        """A node this backend started before the server restarted (see recovery.py)."""
        ...
