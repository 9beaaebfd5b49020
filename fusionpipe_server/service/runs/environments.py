"""Node environments built ahead: when a node's requirements change, its environment is rebuilt
in the background right away, not at the start of its next run.

One build at a time per node, whichever process asks: a run that needs the environment waits
for a build under way, and servers sharing the data folder take turns through a file lock in the
node's ``logs/``. A background build logs to ``logs/environment.log``; its start and end are
announced (``node.environment``), so every canvas shows "building" and then the result.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path
from typing import BinaryIO

from ...folders import kernels
from ...folders import node_folders as folders
from ...folders import venvs as environments
from ...folders.permissions import closed_to_others, make_folder
from ...live.background import cancel
from ...store import events
from ...store import nodes as node_store
from ...store.database import Database
from ..common import ServiceBase, Settings

log = logging.getLogger(__name__)

LOCK_FILE = ".environment.lock"
# The requirements fingerprint whose build failed last, so the panel can say "failed".
FAILED_FILE = ".environment-failed"
BACKGROUND_LOG = "environment.log"


def state(folder: Path) -> str:
    """The environment's state as the panel shows it: ``none``, ``ready``, ``building``,
    ``failed`` (the last build of these requirements failed), ``missing`` or ``stale``."""
    env = environments.environment(folder)
    current = env.state
    if current in ("none", "ready"):
        return current
    logs = folder / "logs"
    if _held(logs / LOCK_FILE):
        return "building"
    failed = logs / FAILED_FILE
    if failed.exists() and failed.read_text() == env.fingerprint():
        return "failed"
    return current


def _held(lock: Path) -> bool:
    """Whether some process builds now (holds the lock), without waiting."""
    try:
        handle = lock.open("rb")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


class EnvironmentService(ServiceBase):
    """Builds node environments, ahead of runs or for them, one build per node at a time."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db, settings)
        self._building: dict[str, asyncio.Task[bool]] = {}  # node id -> build under way here

    def spec_changed(self, node_id: str) -> None:
        """A file the node's environment is built from changed: rebuild it now, in the
        background. Only the folder owner's server builds ahead (the environment is theirs)."""
        if node_id in self._building:
            return
        task = asyncio.create_task(self._build_ahead(node_id))
        self._building[node_id] = task
        task.add_done_callback(lambda _: self._building.pop(node_id, None))

    async def ensure(self, node_id: str, tag: str, folder: Path, log_path: Path) -> bool:
        """The environment a run needs: built ahead, being built (waited for), or built now
        into the run's log. False when it cannot be built."""
        env = environments.environment(folder)
        if env.state in ("none", "ready"):
            return True
        return await self._build(node_id, tag, folder, log_path)

    async def stop(self) -> None:
        for task in list(self._building.values()):
            await cancel(task)

    async def _build_ahead(self, node_id: str) -> bool:
        async with self.db.transaction() as conn:
            row = await node_store.node_row(conn, node_id)
        if row is None:
            return False
        _, relative, tag = row
        folder = folders.node_path(self.settings.data_path, relative)
        needed = await asyncio.to_thread(_needs_building, folder)
        if not needed:
            return True
        await self._announce(node_id, "building")
        built = await self._build(node_id, tag, folder, folder / "logs" / BACKGROUND_LOG)
        await self._announce(node_id, "ready" if built else "failed")
        return built

    async def _build(self, node_id: str, tag: str, folder: Path, log_path: Path) -> bool:
        logs = folder / "logs"
        lock = await asyncio.to_thread(_acquire, logs)
        try:
            env = environments.environment(folder)
            if env.state in ("none", "ready"):  # built meanwhile, by another process
                return True
            built = await environments.build(env, log_path, self.settings.uv_cache_dir)
            failed = logs / FAILED_FILE
            if built:
                failed.unlink(missing_ok=True)
                # The node's kernel now runs on its own environment.
                kernels.write_kernelspec(self.settings.data_path, node_id, tag, folder)
            else:
                with open(failed, "w", opener=closed_to_others) as marker:
                    marker.write(env.fingerprint())
            return built
        finally:
            _release(lock)

    async def _announce(self, node_id: str, state_now: str) -> None:
        try:
            async with self.db.transaction() as conn:
                await events.announce(conn, "node.environment", node_id=node_id, state=state_now)
        except Exception as err:  # the build goes on; the canvas learns at its next fetch
            log.warning("fusionpipe: could not announce node %s's environment: %s", node_id, err)


def _needs_building(folder: Path) -> bool:
    env = environments.environment(folder)
    if env.state not in ("missing", "stale"):
        return False
    if folder.stat().st_uid != os.geteuid():
        return False
    failed = folder / "logs" / FAILED_FILE
    # The same requirements failed already: wait for a change or a run, not a loop of builds.
    return not (failed.exists() and failed.read_text() == env.fingerprint())


def _acquire(logs: Path) -> BinaryIO:
    """Wait for, then hold, the node's build lock (see ``state``)."""
    make_folder(logs, parents=True, exist_ok=True)
    # Held past this function, until _release: no context manager.
    handle = open(logs / LOCK_FILE, "ab", opener=closed_to_others)  # noqa: SIM115
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _release(handle: BinaryIO) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
