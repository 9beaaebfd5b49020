"""Staleness from content: compute nodes' fingerprints, assess them, write the one truth.

Checks are asked for by whatever learns of a change (an editor save, a file watch, a run, a
graph fetch, the periodic scan) and run one at a time in this server, in the background. What
they find goes to the database, by one server at a time per node, and is announced, so every
canvas, the REST API and the CLI read the same statuses and reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core import dag, planning
from ...fingerprint import hashing
from ...fingerprint.hashing import StatCache, StatEntry
from ...fingerprint.parts import Input, Parts, differences
from ...fingerprint.scan import FolderScan, MapScan, outputs_digest, scan_folder
from ...folders import node_folders as folders
from ...folders.parameters import PARAMETERS_FILE
from ...live.background import cancel
from ...models import Status
from ...store import events
from ...store import fingerprints as fp_store
from ...store.database import Database
from ...store.fingerprints import FingerprintRow
from ..common import ServiceBase, Settings

log = logging.getLogger(__name__)

# Pipelines fetched this recently are watched and scanned periodically.
ACTIVE_SECONDS = 15 * 60
# The periodic scans' share of the time at most: a scan of open pipelines that takes 2 s comes
# every 40 s, not every scan_interval.
PERIODIC_SHARE = 0.05
# A fetch re-checks its pipeline at most this often: watching sees changes in between, and a
# canvas that reloads on every event must not make every reload a check.
FETCH_CHECK_SECONDS = 2.0


@dataclass
class NodeNow:
    """A node's fingerprint parts as its files are now, and what its folder said."""

    parts: Parts
    scan: FolderScan

    @property
    def fingerprint(self) -> str:
        return self.parts.fingerprint()


@dataclass
class Seen:
    """A node as a run sees it when it comes to decide."""

    row: FingerprintRow
    parents: dict[str, FingerprintRow]
    now: NodeNow
    assessment: planning.Assessment


class StalenessService(ServiceBase):
    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db, settings)
        self._stat: dict[str, dict[str, StatEntry]] = {}
        self._checking = asyncio.Lock()
        self._wanted_nodes: set[str] = set()
        self._wanted_pipelines: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self.active: dict[str, float] = {}  # pipeline id -> when it was last fetched
        self._fetch_checked: dict[str, float] = {}  # ... and when a fetch last asked a check
        self.scan_interval = 10.0
        self.checks = 0  # finished checks, for tests and benchmarks
        self.last_read: list[str] = []  # files whose content the last check read, likewise

    # -- asking for checks -------------------------------------------------------------------

    def request(self, *, nodes: Iterable[str] = (), pipelines: Iterable[str] = ()) -> None:
        """Check these soon, in the background (many requests are merged into one check)."""
        self._wanted_nodes.update(nodes)
        self._wanted_pipelines.update(pipelines)
        if self._wake is not None:
            self._wake.set()

    def fetched(self, pipeline_id: str) -> None:
        """A canvas (or script) fetched the graph: keep the pipeline watched and re-check it."""
        now = time.monotonic()
        self.active[pipeline_id] = now
        if now - self._fetch_checked.get(pipeline_id, -FETCH_CHECK_SECONDS) >= FETCH_CHECK_SECONDS:
            self._fetch_checked[pipeline_id] = now
            self.request(pipelines=[pipeline_id])

    def active_pipelines(self) -> list[str]:
        horizon = time.monotonic() - ACTIVE_SECONDS
        for pipeline_id in [p for p, t in self.active.items() if t < horizon]:
            del self.active[pipeline_id]
            self._fetch_checked.pop(pipeline_id, None)
        return list(self.active)

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._worker = asyncio.create_task(self._work_forever())

    async def stop(self) -> None:
        # A flag as well as the cancel: asyncio.wait_for (Python < 3.12) can swallow a
        # cancellation that arrives as the event it waits for is set.
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        await cancel(self._worker)
        self._worker = None

    async def _work_forever(self) -> None:
        assert self._wake is not None
        periodic_seconds = 0.0  # what the last periodic scan took
        while not self._stopping:
            # The budget: periodic scans take at most PERIODIC_SHARE of the time, however
            # large the open pipelines.
            interval = max(self.scan_interval, periodic_seconds / PERIODIC_SHARE)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            if self._stopping:
                return
            self._wake.clear()
            periodic = not (self._wanted_nodes or self._wanted_pipelines)
            if periodic:
                # The fallback, for what watching cannot see (other hosts' writes).
                self._wanted_pipelines.update(self.active_pipelines())
            nodes, pipelines = list(self._wanted_nodes), list(self._wanted_pipelines)
            self._wanted_nodes.clear()
            self._wanted_pipelines.clear()
            started = time.monotonic()
            try:
                for pipeline_id in pipelines:
                    await self.check_pipeline(pipeline_id)
                if nodes:
                    await self.check(nodes)
            except Exception:
                log.exception("fusionpipe: a staleness check failed")
            if periodic:
                periodic_seconds = time.monotonic() - started
            await asyncio.sleep(0.05)  # let bursts of events gather

    # -- checking ----------------------------------------------------------------------------

    async def check_pipeline(self, pipeline_id: str) -> dict[str, planning.Assessment]:
        return await self._check(pipeline_id=pipeline_id)

    async def check(self, node_ids: Sequence[str]) -> dict[str, planning.Assessment]:
        """Assess these nodes and everything downstream of them against their files now; write
        and announce what changed. Returns every assessment."""
        if not node_ids:
            return {}
        return await self._check(node_ids=node_ids)

    async def _check(
        self, *, node_ids: Sequence[str] = (), pipeline_id: str | None = None
    ) -> dict[str, planning.Assessment]:
        async with self._checking:
            async with self.db.transaction() as conn:
                scope, readers, rows = await fp_store.closure(
                    conn, node_ids=node_ids, pipeline_id=pipeline_id
                )
                await self._load_stat_entries(conn, scope)
            assessed = [n for n in scope if _assessable(rows[n])]
            now, caches = await asyncio.to_thread(self._scan, rows, assessed)
            seen = {n: rows[n].outputs_seen for n in rows}
            seen.update({n: now[n].scan.outputs for n in assessed})
            order = dag.topological_order(
                scope, [(p, n) for n in scope for _, p in rows[n].parents if p in rows]
            )
            result = planning.assess(
                order,
                {n: _state(rows[n]) for n in scope},
                {n: now[n].parts for n in assessed},
                seen,
                differences,
                outside={n: Status(rows[n].status) for n in readers},
            )
            self.last_read = [f"{n}/{p}" for n, c in caches.items() for p in c.hashed]
            await self._write(rows, assessed, now, result, caches)
            self.checks += 1
            return result

    async def now(
        self, node_ids: Sequence[str]
    ) -> tuple[dict[str, NodeNow], dict[str, FingerprintRow]]:
        """These nodes' parts as their files are now (their parents' outputs as last
        recorded), and the rows of the nodes and their parents. Nothing is written but the
        stat cache."""
        async with self.db.transaction() as conn:
            rows = await fp_store.rows(conn, node_ids)
            parents = {p for row in rows.values() for _, p in row.parents} - rows.keys()
            rows.update(await fp_store.rows(conn, list(parents)))
            wanted = [n for n in node_ids if n in rows]
            await self._load_stat_entries(conn, wanted)
        found, caches = await asyncio.to_thread(self._scan, rows, wanted)
        await self.save(caches)
        return found, rows

    async def assess_one(self, node_id: str) -> Seen | None:
        """One node as a run sees it when its parents have finished: its row, its parents',
        its parts now and whether it is up to date. None when the node is gone."""
        found, rows = await self.now([node_id])
        if node_id not in found:
            return None
        row = rows[node_id]
        parents = {p: rows[p] for _, p in row.parents if p in rows}
        if not _assessable(row):
            # Failed, never run or cleared: nothing there to keep.
            return Seen(row, parents, found[node_id], planning.Assessment(Status(row.status), []))
        assessment = planning.assess(
            [node_id],
            {node_id: _state(row)},
            {node_id: found[node_id].parts},
            {node_id: found[node_id].scan.outputs},
            differences,
            outside={p: Status(r.status) for p, r in parents.items()},
        )[node_id]
        return Seen(row, parents, found[node_id], assessment)

    async def outputs_now(
        self, node_id: str, folder: Path, *, by_stat: bool
    ) -> tuple[str, dict[str, StatCache]]:
        """The digest of a node's ``data/`` as its run left it (hashed in a worker thread),
        and what the stat cache learnt, to be saved with the node's outcome."""
        if node_id not in self._stat:
            async with self.db.transaction() as conn:
                await self._load_stat_entries(conn, [node_id])
        cache = StatCache(self._stat.setdefault(node_id, {}))
        digest = await asyncio.to_thread(outputs_digest, folder, cache, by_stat=by_stat)
        return digest, {node_id: cache}

    async def save(self, caches: dict[str, StatCache]) -> None:
        if any(c.changed or c.gone() for c in caches.values()):
            async with self.db.transaction() as conn:
                await save_stat_cache(conn, caches)

    async def _load_stat_entries(self, conn: Any, node_ids: Sequence[str]) -> None:
        missing = [n for n in node_ids if n not in self._stat]
        if missing:
            self._stat.update(await fp_store.stat_entries(conn, missing))

    def _scan(
        self, rows: dict[str, FingerprintRow], node_ids: Sequence[str]
    ) -> tuple[dict[str, NodeNow], dict[str, StatCache]]:
        """In a worker thread: every node's files, then its parts (a child's inputs are its
        parents' outputs, read in the same pass)."""
        scans, caches = {}, {}
        paths = folders.node_paths(self.settings.data_path, [rows[n].folder for n in node_ids])
        for node_id in node_ids:
            folder = paths[rows[node_id].folder]
            caches[node_id] = StatCache(self._stat.setdefault(node_id, {}))
            scans[node_id] = scan_folder(folder, caches[node_id], outputs=True)
        return {n: self._now(rows, n, scans) for n in node_ids}, caches

    def _now(
        self, rows: dict[str, FingerprintRow], node_id: str, scans: dict[str, FolderScan]
    ) -> NodeNow:
        row, scan = rows[node_id], scans[node_id]
        inputs = {}
        for slot, parent in row.parents:
            digest = scans[parent].outputs if parent in scans else rows[parent].outputs_seen
            inputs[slot] = Input(parent, rows[parent].tag if parent in rows else parent, digest)
        parts = Parts(row.kind, scan.code, scan.parameters, scan.environment, inputs)
        parts.site_setup = list(self.settings.site_setup_of(scan.run_mode))
        if scan.map is not None:
            parts.items = _items_key(scan.map, inputs, rows)
        recorded = row.recorded
        if recorded is None or recorded.parameters != scan.parameters:
            # Only now is the parameters file worth reading: to name what changed.
            folder = folders.node_path(self.settings.data_path, row.folder)
            parts.parameter_values = _read_values(folder)
        else:
            parts.parameter_values = recorded.parameter_values
        return NodeNow(parts, scan)

    async def _write(
        self,
        rows: dict[str, FingerprintRow],
        assessed: Sequence[str],
        now: dict[str, NodeNow],
        result: dict[str, planning.Assessment],
        caches: dict[str, StatCache],
    ) -> None:
        changed = [n for n in assessed if _differs(rows[n], now[n], result[n])]
        if not changed and not any(c.changed or c.gone() for c in caches.values()):
            return
        async with self.db.transaction() as conn:
            await save_stat_cache(conn, caches)
            mine = await fp_store.lock_for_writing(conn, changed)
            for node_id in changed:
                if node_id not in mine:
                    continue
                row, assessment, node_now = rows[node_id], result[node_id], now[node_id]
                adopt = (
                    (node_now.fingerprint, node_now.parts.to_json(), node_now.scan.outputs)
                    if assessment.adopt
                    else None
                )
                written = await fp_store.write_assessment(
                    conn,
                    node_id,
                    expected_status=row.status,
                    expected_fingerprint=row.fingerprint,
                    status=assessment.status.value,
                    reasons=assessment.reasons,
                    outputs_seen=node_now.scan.outputs,
                    adopt=adopt,
                )
                if written and (
                    assessment.status.value != row.status or assessment.reasons != row.stale_reasons
                ):
                    await events.node_status(
                        conn, node_id, assessment.status.value, stale_reasons=assessment.reasons
                    )


async def save_stat_cache(conn: Any, caches: dict[str, StatCache]) -> None:
    """Persist what a pass learnt, so another server (or this one restarted) trusts it too."""
    changed = [(n, p, e) for n, c in caches.items() for p, e in c.changed.items()]
    removed = [(n, p) for n, c in caches.items() for p in c.gone()]
    await fp_store.save_stat_entries(conn, changed, removed)
    for cache in caches.values():
        cache.settle()


def _assessable(row: FingerprintRow) -> bool:
    return row.status in (Status.COMPLETED.value, Status.STALEDATA.value)


def _state(row: FingerprintRow) -> planning.NodeState:
    return planning.NodeState(
        id=row.id,
        tag=row.tag,
        status=Status(row.status),
        recorded=row.recorded,
        manual=row.stale_manual,
        outputs_recorded=row.outputs_recorded,
        parents=[p for _, p in row.parents],
    )


def _differs(row: FingerprintRow, now: NodeNow, assessment: planning.Assessment) -> bool:
    return (
        assessment.adopt
        or assessment.status.value != row.status
        or assessment.reasons != row.stale_reasons
        or now.scan.outputs != row.outputs_seen
    )


def _items_key(declared: MapScan, inputs: dict[str, Input], rows: dict[str, FingerprintRow]) -> str:
    """What decides a mapped node's items: its declaration, and what that reads. The input a
    mapped node reads item by item (``files:``, ``along:``) leaves its fingerprint, and counts
    here instead: each item's fingerprint holds its own part of it (service/runs/mapped.py)."""
    key = f"{declared.form}:{declared.digest}:{declared.source_hash}"
    read = inputs.get(declared.slot)
    if read is None:
        return key
    inputs[declared.slot] = Input(read.node_id, read.tag, f"read item by item ({declared.form})")
    parent = rows.get(read.node_id)
    parent_items = parent.recorded.items if parent is not None and parent.recorded else None
    return f"{key}:{read.digest}:{parent_items or ''}"


def _read_values(folder: Path) -> dict[str, Any] | None:
    try:
        text = (folder / PARAMETERS_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return hashing.parameter_values(text)
