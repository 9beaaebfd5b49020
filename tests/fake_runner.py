"""A runner registered through configuration (``FusionpipeApp.runner_class``), as a site would
add a batch scheduler: see test_runner_plugin.py."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from traitlets import Unicode
from traitlets.config import Configurable

from fusionpipe_server.runners.base import NodeJob


class FakeExecution:
    outlives_server = False
    lost = False

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid: int | None = process.pid

    async def wait(self) -> int:
        return await self.process.wait()

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()


class FakeRunner(Configurable):
    name = "fake"
    local = True

    greeting = Unicode("the fake runner starts", help="Written to each log.").tag(config=True)

    async def start(self, job: NodeJob) -> FakeExecution:
        job.log_path.parent.mkdir(parents=True, exist_ok=True)
        with job.log_path.open("a") as log:
            log.write(f"{self.greeting} {job.node_id}\n")
        with job.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *job.argv,
                cwd=job.cwd,
                env={**job.env, "FAKE_RUNNER": self.greeting},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return FakeExecution(process)

    def take_back(self, pid: int, log_path: Path) -> FakeExecution:
        raise OSError("the fake runner takes nothing back")
