"""What every service shares: settings, input rules, and folder changes tied to a transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from ..errors import Conflict, Invalid, NotFound
from ..models import Pipeline
from ..store import pipelines as pipeline_store
from ..store.database import Database
from .rights import Rights

log = logging.getLogger(__name__)

MAX_TAG_LENGTH = 200


@dataclass(frozen=True)
class Settings:
    """What the services need to know about this server."""

    data_path: Path
    # The data folder as the file browser sees it (relative to the server root), None when
    # it cannot: see folders/lab_paths.py.
    lab_data_prefix: str | None = None
    max_parallel_nodes: int = 1
    matlab_runner_path: str = ""
    ray_address: str = ""
    # The token of the Ray cluster at ray_address, for clusters with token authentication.
    ray_auth_token_path: str = ""
    uv_cache_dir: str = ""
    default_run_mode: str = "local"
    output_cache_bytes: int = 20 * 2**30
    # The most items a mapped node may have (see core/mapping.py).
    max_items: int = 100_000
    # Local node processes go on when the server stops, and the next server takes them back.
    runs_outlive_server: bool = True
    # How long a run stays this server's without it renewing its hold (see RunEngine).
    run_lease_seconds: float = 60.0
    # The GPUs local runs hand out (CUDA_VISIBLE_DEVICES entries): see runners/gpus.py.
    local_gpus: tuple[str, ...] = ()
    # Who may delete, move and lock what others own (see rights.py).
    admins: frozenset[str] = frozenset()
    # How long deleted projects, pipelines and nodes stay in the trash.
    trash_days: float = 30.0
    # The setup commands each run mode's runner runs before every node (Slurm's ``setup``),
    # by mode: they make the node's environment, so they count in its fingerprint. Filled
    # from the runners by Service.
    site_setup: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def site_setup_of(self, run_mode: str) -> tuple[str, ...]:
        """The site's setup commands of a node naming ``run_mode`` ("": the default mode)."""
        return tuple(self.site_setup.get(run_mode or self.default_run_mode, ()))


def clean_tag(tag: str | None, field_name: str = "tag") -> str | None:
    """A tag as stored: surrounding spaces dropped; empty or overlong tags refused."""
    if tag is None:
        return None
    tag = tag.strip()
    if not tag:
        raise Invalid(f"{field_name} must not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise Invalid(f"{field_name} is longer than {MAX_TAG_LENGTH} characters")
    return tag


@dataclass
class FolderChanges:
    """File-system steps of one operation: undone when its transaction fails, finished when it
    commits. Folders are created or moved aside inside the transaction, so a failure leaves
    nothing half-made and a success deletes only what the committed rows no longer need."""

    undo: list[Callable[[], object]] = field(default_factory=list)
    finish: list[Callable[[], object]] = field(default_factory=list)

    def _run(self, steps: list[Callable[[], object]]) -> None:
        for step in reversed(steps):
            try:
                step()
            except OSError:
                log.exception("fusionpipe: a folder clean-up step failed")


class Unit:
    """One database transaction plus the folder changes that go with it."""

    def __init__(self, conn: AsyncConnection, folders: FolderChanges) -> None:
        self.conn = conn
        self.folders = folders
        # Nodes whose staleness must be checked again once the change is committed.
        self.touched: set[str] = set()
        # What the operation could not do on disk, for its answer (see sync_read_only).
        self.warnings: list[str] = []


def with_warnings(answer: dict[str, Any], unit: Unit) -> dict[str, Any]:
    """An answer plus ``warnings`` when the operation could not do all it meant to on disk."""
    return {**answer, "warnings": unit.warnings} if unit.warnings else answer


class ServiceBase:
    """Access to the database and settings, and the lookups every service repeats."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        # Set by Service: one Rights for every service, with the admins the database knows.
        self.rights = Rights(settings.admins)
        # Set by Service: asks for a staleness check of these nodes (and what is below them).
        self.recheck: Callable[[set[str]], None] = lambda node_ids: None

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        folders = FolderChanges()
        try:
            async with self.db.transaction() as conn:
                unit = Unit(conn, folders)
                yield unit
        except BaseException:
            # Undo and finish steps remove whole folder trees: in a thread, off the event loop.
            await asyncio.to_thread(folders._run, folders.undo)
            raise
        await asyncio.to_thread(folders._run, folders.finish)
        if unit.touched:
            self.recheck(unit.touched)

    @staticmethod
    async def pipeline(
        conn: AsyncConnection, pipeline_id: str, *, editable: bool = False
    ) -> Pipeline:
        """A pipeline that must exist; ``editable`` also locks its row and refuses a locked one."""
        pipeline = await pipeline_store.get_pipeline(conn, pipeline_id, for_update=editable)
        if pipeline is None:
            raise NotFound(f"no pipeline with id {pipeline_id!r}")
        if editable and pipeline.locked:
            raise Conflict(f"pipeline {pipeline.tag!r} ({pipeline.id}) is locked: unlock it first")
        return pipeline
