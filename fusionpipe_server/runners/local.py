"""The local backend: node processes of this Jupyter server's user that outlive the server.

A node runs under a tiny ``sh`` that records its exit code next to its log
(``logs/<run>.exit``), in a session of its own. When the server stops, is culled or crashes,
the node goes on; a server started later takes it back by its pid (service/runs/recovery.py)
and learns how it ended from that file. The end of a process is awaited with a pidfd, which
works for processes the server did not start too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from pathlib import Path

from ..folders.permissions import NODE_UMASK, closed_to_others, make_folder
from .base import NodeJob
from .processes import is_alive

# How long a node gets to exit on SIGTERM before SIGKILL.
KILL_GRACE_SECONDS = 3.0
# Without a pidfd (old kernels), how often a process is looked at.
POLL_SECONDS = 0.05

# A constant script: the exit file and the node's command come in as arguments, never as text.
# The code is written in place, with the shell's own printf: it is read only once the shell
# has ended, and a few bytes go in one write (no temporary file and no `mv` process: a node
# costs one process start less).
_RECORD_EXIT = (
    'exit_file="$1"; shift; "$@"; code=$?; printf "%s\\n" "$code" > "$exit_file"; exit "$code"'
)


def exit_file(log_path: Path) -> Path:
    return log_path.with_suffix(".exit")


def recorded_exit(log_path: Path) -> int | None:
    """The exit code the node's wrapper wrote, None when it wrote none (it was killed)."""
    try:
        return int(exit_file(log_path).read_text().strip())
    except (OSError, ValueError):
        return None


async def process_gone(pid: int) -> None:
    """Return once process ``pid`` has ended (it need not be this server's child)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except OSError:
        while is_alive(pid):
            await asyncio.sleep(POLL_SECONDS)
        return
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await ended
    finally:
        loop.remove_reader(fd)
        os.close(fd)


class LocalExecution:
    """A node process, started here (``process``) or taken back after a restart."""

    outlives_server = True

    def __init__(self, pid: int, log_path: Path, process: subprocess.Popen[bytes] | None) -> None:
        self.pid: int | None = pid
        self.log_path = log_path
        self.process = process
        self.lost = False

    async def wait(self) -> int:
        """The exit code; -9 (as if killed) when the process ended without recording one."""
        assert self.pid is not None
        await process_gone(self.pid)
        if self.process is not None:
            return self.process.wait()
        code = recorded_exit(self.log_path)
        self.lost = code is None
        return -signal.SIGKILL if code is None else code

    async def kill(self) -> None:
        """SIGTERM to the node's whole process group (its own session), SIGKILL if it lingers."""
        assert self.pid is not None
        if not is_alive(self.pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process_gone(self.pid), KILL_GRACE_SECONDS)
        # Children that ignored SIGTERM, or outlived the leader, are still in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        await process_gone(self.pid)


class LocalRunner:
    name = "local"
    local = True

    async def start(self, job: NodeJob) -> LocalExecution:
        make_folder(job.log_path.parent, parents=True, exist_ok=True)
        exit_file(job.log_path).unlink(missing_ok=True)
        with open(job.log_path, "ab", opener=closed_to_others) as log:
            # Not asyncio's subprocess: its transport kills the child when the loop closes,
            # and a node must survive its server.
            wrapper = ["/bin/sh", "-c", _RECORD_EXIT, "fusionpipe-node"]
            process = subprocess.Popen(
                [*wrapper, str(exit_file(job.log_path)), *job.argv],
                cwd=job.cwd,
                env=job.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: the node and everything it spawns form one process group
                # that kill() can end at once, and that a stopping server leaves alone.
                start_new_session=True,
                # What the node writes is closed to others (see NODE_UMASK).
                umask=NODE_UMASK,
            )
        return LocalExecution(process.pid, job.log_path, process)

    def take_back(self, pid: int, log_path: Path) -> LocalExecution:
        """A node this backend started before the server restarted."""
        return LocalExecution(pid, log_path, None)
