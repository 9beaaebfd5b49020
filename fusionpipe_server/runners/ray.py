"""The Ray backend: a node runs as a Ray task that starts the node's command in its own session.

Ray starts locally on first use (or joins the cluster at ``ray_address``, with the cluster's
token when it uses token authentication). The task body is ``ray_task``, standard library
only, shipped with the task together with the node API packages: a worker needs neither
``fusionpipe_server`` nor the server's virtual environment. Cancelling a Ray task only
interrupts the task, not the processes it started, so the task itself watches its child and
kills the child's whole process group when it is interrupted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import fp_user_utils
import fusionpipe

from ..errors import Conflict, Unavailable
from ..folders.permissions import NODE_UMASK, make_folder
from . import ray_task
from .base import NodeJob
from .ray_resources import task_options, unsatisfiable

# Shipped to every worker (runtime_env py_modules), so that node code imports them there.
NODE_API_PACKAGES: tuple[ModuleType, ...] = (fusionpipe, fp_user_utils)


def server_paths() -> dict[str, str]:
    """Paths of this server's installation that node commands name, and what each is (see
    ray_task.relocate): the server's Python, and the node API packages."""
    paths = {sys.executable: ray_task.WORKER_PYTHON}
    for package in NODE_API_PACKAGES:
        assert package.__file__ is not None
        paths[str(Path(package.__file__).parent)] = package.__name__
    return paths


def cluster_environment(token_path: str, environ: dict[str, str]) -> dict[str, str]:
    """The variables Ray must see to join a cluster with the token in ``token_path``.

    Ray reads them from the process environment only. It uses token authentication with an
    explicit address only when told (``RAY_AUTH_MODE=token``); a mode set by the administrator
    is left as it is."""
    if not token_path:
        return {}
    path = Path(token_path).expanduser()
    if not path.is_file():
        raise Unavailable(f"the Ray token file {path} (ray_auth_token_path) does not exist")
    variables = {"RAY_AUTH_TOKEN_PATH": str(path)}
    if "RAY_AUTH_MODE" not in environ:
        variables["RAY_AUTH_MODE"] = "token"
    return variables


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

    def __init__(
        self, address: str = "", num_cpus: int | None = None, auth_token_path: str = ""
    ) -> None:
        self.address = address
        # Only for a local Ray: a cluster's nodes declare their own CPUs.
        self.num_cpus = num_cpus
        self.auth_token_path = auth_token_path
        self._remote: Any = None
        self._ray: Any = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> RayRunner:
        """As the server is configured: ``ray_address``, its token, and as many CPUs for a
        local Ray as the server runs nodes at once."""
        return cls(
            settings.ray_address,
            settings.max_parallel_nodes,
            auth_token_path=settings.ray_auth_token_path,
        )

    async def _connect(self) -> None:
        async with self._lock:
            if self._remote is not None:
                return
            if self.address:
                # Before Ray is imported: it reads its configuration then.
                os.environ.update(cluster_environment(self.auth_token_path, dict(os.environ)))
            # The Jupyter server owns its signals: Ray's failure handler, once installed in
            # the server, caught its SIGTERM and made a clean stop end in SIGABRT now and then.
            os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
            try:
                import ray
            except ImportError as err:
                raise Unavailable("run_mode: ray needs Ray: pip install 'ray>=2.40'") from err
            options: dict[str, Any] = {
                "ignore_reinit_error": True,
                "log_to_driver": False,
                "runtime_env": {"py_modules": list(NODE_API_PACKAGES)},
            }
            if self.address:
                options["address"] = self.address
            else:
                options.update(num_cpus=self.num_cpus, include_dashboard=False)
            try:
                # Starting a local Ray takes seconds: keep the event loop free meanwhile.
                await asyncio.to_thread(ray.init, **options)
            except (ConnectionError, RuntimeError, ray.exceptions.RayError) as err:
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
                raise Unavailable(f"could not start or reach {where}: {err}") from err
            # Sent with each task instead of imported by name on the worker.
            ray.cloudpickle.register_pickle_by_value(ray_task)
            self._ray = ray
            self._remote = ray.remote(num_cpus=1, max_retries=0)(ray_task.run_node)

    async def start(self, job: NodeJob) -> RayExecution:
        await self._connect()
        totals = await asyncio.to_thread(self._ray.cluster_resources)
        problem = unsatisfiable(job.resources, totals)
        if problem:
            raise Conflict(problem)
        make_folder(job.log_path.parent, parents=True, exist_ok=True)
        remote = self._remote.options(**task_options(job.resources))
        ref = remote.remote(
            list(job.argv), str(job.cwd), job.env, str(job.log_path), server_paths(), NODE_UMASK
        )
        return RayExecution(self._ray, ref)

    def take_back(self, pid: int, log_path: Path) -> RayExecution:
        """Never: a Ray task ends with the server that submitted it (service/runs/recovery.py)."""
        raise OSError("a node on Ray cannot be taken back after its server stopped")

    def shutdown(self) -> None:
        """End the local Ray, or leave the cluster (its tasks of this server end with it)."""
        if self._ray is not None:
            self._ray.shutdown()
            self._remote = None
