"""The local backend: node processes are children of this Jupyter server, as its user."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from .base import NodeJob

# How long a node gets to exit on SIGTERM before SIGKILL.
KILL_GRACE_SECONDS = 3.0


class LocalExecution:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid: int | None = process.pid

    async def wait(self) -> int:
        return await self.process.wait()

    async def kill(self) -> None:
        """SIGTERM to the node's whole process group (its own session), SIGKILL if it lingers."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.process.wait(), KILL_GRACE_SECONDS)
        # Children that ignored SIGTERM, or outlived the leader, are still in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()


class LocalRunner:
    name = "local"

    async def start(self, job: NodeJob) -> LocalExecution:
        job.log_path.parent.mkdir(parents=True, exist_ok=True)
        with job.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *job.argv,
                cwd=job.cwd,
                env=job.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                # Its own session: the node and everything it spawns form one process group
                # that kill() can end at once.
                start_new_session=True,
            )
        return LocalExecution(process)
