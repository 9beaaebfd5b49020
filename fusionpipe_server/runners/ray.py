"""The Ray backend: a node runs as a Ray task that starts the node's command in its own session.

Ray starts locally on first use (or joins the cluster at ``ray_address``). Cancelling a Ray task
only interrupts the task, not the processes it started, so the task itself watches its child and
kills the child's whole process group when it is interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from ..errors import Conflict, Unavailable
from .base import NodeJob
from .ray_resources import task_options, unsatisfiable

# How often the task checks on its child; also how fast a cancel takes effect.
POLL_SECONDS = 0.05


def run_in_own_session(argv: list[str], cwd: str, env: dict[str, str], log_path: str) -> int:
    """Body of the Ray task (runs in a Ray worker): the node's command, killed with its whole
    process group when the task is cancelled."""
    # The GPUs Ray chose for this task (it sets CUDA_VISIBLE_DEVICES in the worker).
    chosen = {k: os.environ[k] for k in ("CUDA_VISIBLE_DEVICES",) if k in os.environ}
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**env, **chosen},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while child.poll() is None:
            time.sleep(POLL_SECONDS)
        return child.returncode
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise


class RayExecution:
    pid: int | None = None  # the process lives on a Ray worker, maybe on another machine
    # A Ray task ends with the driver (this server) that submitted it.
    outlives_server = False
    lost = False

    def __init__(self, ray: Any, ref: Any) -> None:
        self._ray = ray
        self._ref = ref

    async def wait(self) -> int:
        try:
            return int(await self._ref)
        except self._ray.exceptions.TaskCancelledError:
            return -signal.SIGKILL
        except self._ray.exceptions.RayError as err:
            raise OSError(f"the Ray task failed: {err}") from err

    async def kill(self) -> None:
        # force=False raises inside the task, which then kills the node's process group;
        # force=True would kill the worker and leave those processes behind.
        self._ray.cancel(self._ref, force=False)


class RayRunner:
    name = "ray"
    local = False  # Ray places the task and its resources

    def __init__(self, address: str = "", num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self._remote: Any = None
        self._ray: Any = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> None:
        async with self._lock:
            if self._remote is not None:
                return
            try:
                import ray
            except ImportError as err:
                raise Unavailable("run_mode: ray needs Ray: pip install 'ray>=2.40'") from err
            options: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False}
            if self.address:
                options["address"] = self.address
            else:
                options.update(num_cpus=self.num_cpus, include_dashboard=False)
            # Starting a local Ray takes seconds: keep the event loop free meanwhile.
            await asyncio.to_thread(ray.init, **options)
            self._ray = ray
            self._remote = ray.remote(num_cpus=1, max_retries=0)(run_in_own_session)

    async def start(self, job: NodeJob) -> RayExecution:
        await self._connect()
        totals = await asyncio.to_thread(self._ray.cluster_resources)
        problem = unsatisfiable(job.resources, totals)
        if problem:
            raise Conflict(problem)
        job.log_path.parent.mkdir(parents=True, exist_ok=True)
        remote = self._remote.options(**task_options(job.resources))
        ref = remote.remote(list(job.argv), str(job.cwd), job.env, str(job.log_path))
        return RayExecution(self._ray, ref)

    def take_back(self, pid: int, log_path: Path) -> RayExecution:
        """Never: a Ray task ends with the server that submitted it (see recovery.py)."""
        raise OSError("a node on Ray cannot be taken back after its server stopped")

    def shutdown(self) -> None:
        if self._ray is not None and not self.address:
            self._ray.shutdown()
            self._remote = None
