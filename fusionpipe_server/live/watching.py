"""Learning of changes in node folders as they happen, whoever makes them.

- Saves in the lab's editor arrive as jupyter_server's own contents events.
- Terminals, scripts and other users' servers on this machine are seen by watching, with
  inotify (through watchfiles), the ``code/`` folders (and the top of ``data/``) of the nodes
  in pipelines someone has open, up to a budget of watched folders; never whole data trees.
- What neither can see (writes from other hosts on a network file system, such as Ray workers)
  is caught by the staleness service's periodic scan.
Each change only asks for a check of its node; the check decides.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import watchfiles

from ..fingerprint.selection import ENVIRONMENT_FILES, skipped_dir
from ..service.freshness.staleness import StalenessService
from ..service.runs.environments import EnvironmentService
from ..store import fingerprints as fp_store
from ..store.database import Database
from .background import cancel

log = logging.getLogger(__name__)

CONTENTS_EVENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
# How often the watcher looks whether the set of open pipelines changed.
REFRESH_SECONDS = 1.0


class ChangeWatcher:
    def __init__(
        self,
        db: Database,
        data_path: Path,
        staleness: StalenessService,
        *,
        root_dir: Path | None,
        max_folders: int,
        environments: EnvironmentService,
    ) -> None:
        self.db = db
        self.data_path = data_path
        self.staleness = staleness
        self.environments = environments
        self.root_dir = root_dir
        self.max_folders = max_folders
        self.watched: dict[Path, str] = {}  # folder -> node id
        self._task: asyncio.Task[None] | None = None

    # -- the lab's own saves -----------------------------------------------------------------

    async def on_contents_event(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        """A file saved, uploaded, renamed or deleted through the lab (editor, file browser)."""
        if data.get("action") in ("get", None) or self.root_dir is None:
            return
        for key in ("path", "source_path"):
            if data.get(key):
                path = self.root_dir / str(data[key])
                node_id = await self.node_of(path)
                if node_id is not None:
                    self._changed(node_id, path)

    async def node_of(self, path: Path) -> str | None:
        """The node whose folder holds ``path``, if any."""
        try:
            relative = path.resolve().relative_to(self.data_path)
        except (ValueError, OSError):
            return None
        parts = relative.parts
        async with self.db.transaction() as conn:
            for depth in (2, 1, 3):
                if len(parts) > depth:
                    node_id = await fp_store.node_by_folder(conn, "/".join(parts[:depth]))
                    if node_id is not None:
                        return node_id
        return None

    # -- watching folders --------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._watch_forever())

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _watch_forever(self) -> None:
        while True:
            active = sorted(self.staleness.active_pipelines())
            try:
                self.watched, members = await self._folders(active)
                if self.watched:
                    await self._watch_until_changed(active, members)
                else:
                    # Nothing to watch (no pipeline open, or no folder of theirs here): walk
                    # again when that changes, not every second.
                    await self._open_nodes_changed(active, members)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fusionpipe: watching node folders failed; retrying")
                await asyncio.sleep(5)

    async def _folders(self, pipelines: list[str]) -> tuple[dict[Path, str], tuple[int, int]]:
        """The folders to watch, and the signature of the nodes they were found for."""
        async with self.db.transaction() as conn:
            nodes = await fp_store.folders_of_pipelines(conn, pipelines)
            members = await fp_store.members_signature(conn, pipelines)
        return await asyncio.to_thread(self._walk, nodes), members

    def _walk(self, nodes: list[tuple[str, str]]) -> dict[Path, str]:
        """The folders to watch, within the budget: each node's data/, code/ and code's
        sub-folders but environments, caches and version control."""
        found: dict[Path, str] = {}
        for node_id, relative in nodes:
            folder = self.data_path / relative
            for top in (folder / "data", folder / "code"):
                if top.is_dir():
                    found[top] = node_id
            for root, dirs, _ in os.walk(folder / "code"):
                dirs[:] = [d for d in dirs if not skipped_dir(d)]
                for name in dirs:
                    found[Path(root) / name] = node_id
                if len(found) >= self.max_folders:
                    log.warning(
                        "fusionpipe: watching the first %d node folders only "
                        "(FusionpipeApp.max_watched_folders); the periodic scan covers the rest",
                        self.max_folders,
                    )
                    return dict(list(found.items())[: self.max_folders])
        return found

    async def _watch_until_changed(self, active: list[str], members: tuple[int, int]) -> None:
        stop = asyncio.Event()

        async def stop_when_pipelines_change() -> None:
            await self._open_nodes_changed(active, members)
            stop.set()

        watcher = asyncio.create_task(stop_when_pipelines_change())
        try:
            async for changes in watchfiles.awatch(
                *self.watched,
                recursive=False,
                debounce=200,
                step=50,
                stop_event=stop,
            ):
                for change, path in changes:
                    node_id = self._owner(Path(path))
                    if node_id is not None:
                        self._changed(node_id, Path(path))
                        if change == watchfiles.Change.added and self._new_code_folder(Path(path)):
                            stop.set()  # walk again, to watch inside it too
        finally:
            watcher.cancel()

    def _new_code_folder(self, path: Path) -> bool:
        """A folder made in a watched folder of a node's code (not in the top of its data/,
        whose sub-folders are never watched)."""
        parent = path.parent
        data_top = parent.name == "data" and parent.parent / "code" in self.watched
        return not data_top and not skipped_dir(path.name) and path.is_dir()

    async def _open_nodes_changed(self, active: list[str], members: tuple[int, int]) -> None:
        """Return once the set of open pipelines is no longer ``active``, or their nodes are
        no longer those of ``members`` (a node added, by any server, is watched at once)."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            if sorted(self.staleness.active_pipelines()) != active:
                return
            if active and await self._members_now(active) not in (None, members):
                return

    async def _members_now(self, active: list[str]) -> tuple[int, int] | None:
        """The signature of the open pipelines' nodes; None when the database cannot say (an
        outage: what is watched stays watched meanwhile)."""
        try:
            async with self.db.transaction() as conn:
                return await fp_store.members_signature(conn, active)
        except Exception as err:
            log.debug("fusionpipe: could not compare the open pipelines' nodes: %s", err)
            return None

    def _changed(self, node_id: str, path: Path) -> None:
        """A file of the node changed: check it (many requests make one check), and rebuild
        its environment ahead of its next run when the file is one it is built from."""
        self.staleness.request(nodes=[node_id])
        if path.name in ENVIRONMENT_FILES and path.parent.name == "code":
            self.environments.spec_changed(node_id)

    def _owner(self, path: Path) -> str | None:
        for folder in (path.parent, path):
            if folder in self.watched:
                return self.watched[folder]
        return None
