"""A mapped node's execution (SPEC §7), once the node step has claimed it: its items from its
declaration, each decided alone (up to date, restored from the cache, or run), run in parallel
within the slots, each with its own attempts, folder, log and fingerprint; then the node's
outcome from its items'.

An item's fingerprint is the node's own (code, other parameters, environment, the inputs it
reads whole) plus the item's values, plus for ``files:`` the content of its file and for
``along:`` the outputs of the parent's matching item. So a new item, a new file or one parent
item re-made leaves every other item alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from ...core import mapping
from ...core.mapping import Declaration, Item
from ...errors import FusionpipeError, Invalid
from ...folders import item_folders
from ...folders import node_folders as folders
from ...folders import venvs as environments
from ...folders.logs import note
from ...folders.permissions import make_folder
from ...models import KILLED_BY, NodeKind
from ...runners.base import Execution, NodeJob
from ...store import items as item_store
from ...store import nodes as node_store
from ...store.fingerprints import FingerprintRow
from ..freshness.staleness import NodeNow
from .attempts import Attempts
from .item_unit import ItemUnit, item_fingerprint
from .jobs import ItemJob, item_logs, node_job
from .parts import EngineParts
from .placement import Placement
from .queued import queue_followed

log = logging.getLogger(__name__)

# What a run asks of a mapped node's items: these ids, or the failed ones ("failed").
Selection = list[str] | str
# How often the canvases hear a running node's item counts, at most.
COUNTS_EVERY_SECONDS = 0.5


class MappedRun:
    """One execution of a mapped node in one run."""

    def __init__(
        self,
        parts: EngineParts,
        attempts: Attempts,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        now: NodeNow,
        folder: Path,
        plan: Placement,
    ) -> None:
        self.parts, self.attempts = parts, attempts
        self.run_id, self.pipeline_id, self.row, self.now = run_id, pipeline_id, row, now
        self.folder, self.plan = folder, plan
        assert plan.mapped is not None
        self.declared: Declaration = plan.mapped
        self.log_path = folder / "logs" / f"{run_id}.log"
        self._announced = 0.0
        self._trailing: asyncio.Task[None] | None = None
        self._cached: set[str] = set()  # fingerprints of items the output cache holds

    async def execute(self, selection: Selection | None) -> bool:
        """Run the items that need it (of ``selection``); True when every item is completed."""
        recorder = self.parts.recorder
        if not await self.parts.environments.ensure(
            self.row.id, self.row.tag, self.folder, self.log_path
        ):
            why = "its environment could not be built (see the log)"
            return await recorder.fail(self.run_id, self.pipeline_id, self.row.id, None, why)
        try:
            items, reads = await self._items()
        except Invalid as err:
            await note(self.log_path, f"fusionpipe: {err.message}\n")
            return await recorder.fail(
                self.run_id, self.pipeline_id, self.row.id, None, err.message
            )
        known, removed = await recorder.items_synced(
            self.run_id, self.pipeline_id, self.row.id, [(i.id, i.values) for i in items]
        )
        for gone in removed:
            await self._put_away(gone.id, gone.fingerprint, gone.run_id, gone.outputs)
        chosen = _chosen(items, known, selection)
        present = await asyncio.to_thread(_present, self.folder, chosen)
        todo = []
        for item in chosen:
            fingerprint = item_fingerprint(self.now.fingerprint, item.values, reads.get(item.id))
            was = known[item.id]
            if (
                was.status == "completed"
                and was.fingerprint == fingerprint
                and item.id in present
                and not self.row.stale_manual
            ):
                continue
            todo.append((item, fingerprint, was))
        await note(
            self.log_path,
            f"fusionpipe: {len(items)} items, {len(todo)} to run"
            + (f", {len(removed)} removed" if removed else "")
            + "\n",
        )
        await recorder.items_planned(self.run_id, self.row.id, [item.id for item, _, _ in todo])
        if self.now.scan.cache_outputs and not self.row.stale_manual:
            self._cached = await self.parts.cache.cached([f for _, f, _ in todo])
        await self._run_all(todo)
        if todo and self._stopped():
            await recorder.items_unstarted(self.run_id, self.row.id, "not started: stopped")
        return await self._outcome(selection)

    # -- the items ---------------------------------------------------------------------------

    async def _items(self) -> tuple[list[Item], dict[str, str]]:
        """The items the declaration gives now, and what each reads item by item."""
        declared, limit = self.declared, self.parts.settings.max_items
        if declared.grid is not None:
            return mapping.grid_items(declared.grid, limit), {}
        if declared.source is not None:
            return await asyncio.to_thread(item_folders.table, self.folder, declared, limit), {}
        slot = declared.slot
        parent = dict(self.row.parents).get(slot or "")
        if parent is None:
            raise mapping.problem(f"{declared.form}: there is no input in slot {slot}")
        async with self.parts.db.transaction() as conn:
            parent_rows = await item_store.rows(conn, parent)
            parent_folders = await node_store.folders_of(conn, [parent])
        if declared.pattern is not None:
            path = folders.node_path(self.parts.settings.data_path, parent_folders[0])
            found = await asyncio.to_thread(item_folders.files, path, declared, limit)
            hashes = await asyncio.to_thread(
                lambda: {i.id: item_folders.file_digest(i.values[mapping.FILE_KEY]) for i in found}
            )
            return found, hashes
        if not parent_rows:
            raise mapping.problem(f"along: the input in slot {slot} is not a mapped node")
        parent_items = [Item(r.id, r.values) for r in parent_rows.values()]
        reads = {r.id: r.outputs or "" for r in parent_rows.values()}
        return mapping.along_items(parent_items), reads

    async def _run_all(self, todo: list[tuple[Item, str, item_store.ItemRow]]) -> None:
        """The items to run, as many at once as the slots allow (each item holds its own); on a
        runner that takes many jobs at once (``start_array``: Slurm), as one job array."""
        if hasattr(self.plan.runner, "start_array"):
            await self._run_array(todo)
            return
        queue: asyncio.Queue[tuple[Item, str, item_store.ItemRow]] = asyncio.Queue()
        for entry in todo:
            queue.put_nowait(entry)
        workers = max(1, min(len(todo), self.parts.settings.max_parallel_nodes * 2))

        async def work() -> None:
            while not queue.empty() and not self._stopped():
                item, fingerprint, was = queue.get_nowait()
                async with self.parts.pool.hold(self.plan.need) as gpus:
                    if self._stopped():
                        return
                    prepared = await self._prepare(item, fingerprint, was, gpus)
                    if prepared is not None:
                        await self._attempts(*prepared)

        await asyncio.gather(*(work() for _ in range(workers)))

    async def _run_array(self, todo: list[tuple[Item, str, item_store.ItemRow]]) -> None:
        """Every item to run is a task of one job array: its first attempt. Retries go one job
        at a time; a failed-items run is a new, smaller array."""
        prepared = []
        for item, fingerprint, was in todo:
            if self._stopped():
                return
            ready = await self._prepare(item, fingerprint, was, [])
            if ready is not None:
                prepared.append(ready)
        if not prepared or self._stopped():
            return
        jobs = [job for _, job in prepared]
        try:
            executions = await self.plan.runner.start_array(jobs)  # type: ignore[attr-defined]
        except (OSError, ValueError, FusionpipeError) as err:
            for unit, job in prepared:
                await note(job.log_path, f"fusionpipe: could not start the node: {err}\n")
                await unit.fail(None, f"could not start: {err}")
            return
        array = str(getattr(executions[0], "job_id", "")).split("_")[0]
        if array:
            await self.parts.recorder.job_submitted(
                self.run_id, self.row.id, self.plan.runner.name, array
            )
            await note(self.log_path, f"fusionpipe: {len(jobs)} items in job array {array}\n")
        by_item = {unit.item.id: run for (unit, _), run in zip(prepared, executions, strict=True)}
        async with queue_followed(by_item, self._mark_queued, self.plan.runner):
            await asyncio.gather(
                *(
                    self._attempts(unit, job, execution)
                    for (unit, job), execution in zip(prepared, executions, strict=True)
                )
            )

    async def _mark_queued(self, item_ids: list[str], queued: bool) -> None:
        await self.parts.recorder.items_queued(self.run_id, self.row.id, item_ids, queued)
        await self.counted()

    def _stopped(self) -> bool:
        running = self.parts.running
        return running.killed_by(self.row.id) is not None or running.stopping(self.run_id)

    async def _prepare(
        self, item: Item, fingerprint: str, was: item_store.ItemRow, gpus: list[str]
    ) -> tuple[ItemUnit, NodeJob] | None:
        """The item's folders, and its job; None when it was restored from the cache."""
        logs = item_logs(self.folder, item.id)
        log_path = logs / f"{self.run_id}.log"
        outputs = self.folder / "data" / item.id
        await self._put_away(item.id, was.fingerprint, was.run_id, was.outputs)
        await asyncio.to_thread(_make_folders, self.folder, item.id)
        unit = ItemUnit(self, item, fingerprint, outputs)
        header = f"fusionpipe: run {self.run_id}, node {self.row.id}, item {item.id}\n"
        await note(log_path, header)
        cached = None
        if fingerprint in self._cached:
            cached = await self.parts.cache.find(fingerprint, self.row.id)
        if cached is not None:
            await self.parts.cache.restore(cached, outputs)
            await note(log_path, f"fusionpipe: restored from run {cached.run_id}, nothing to run\n")
            await self.parts.recorder.item_finished(
                self.run_id,
                self.row.id,
                item.id,
                status="completed",
                exit_code=None,
                reason=f"restored from run {cached.run_id}",
                metrics={},
                fingerprint=fingerprint,
                outputs=cached.outputs,
            )
            await self.counted()
            return None
        job = node_job(
            self.parts.settings,
            self.run_id,
            self.row.id,
            NodeKind(self.row.kind),
            self.folder,
            log_path,
            environments.environment(self.folder),
            self.plan,
            gpus,
            item=ItemJob(
                item.id, item.values, self.declared.slot if self.declared.form == "along" else None
            ),
        )
        return unit, job

    async def _attempts(self, unit: ItemUnit, job: NodeJob, first: Execution | None = None) -> bool:
        try:
            return await self.attempts.attempts(unit, self.plan, job, first)
        except Exception as err:  # the item fails; its siblings go on
            why = f"fusionpipe failed while running it: {type(err).__name__}: {err}"
            await note(job.log_path, f"\nfusionpipe: {why}\n")
            return await unit.fail(None, why)

    async def _put_away(
        self, item_id: str, fingerprint: str | None, run_id: str | None, outputs: str | None
    ) -> None:
        """What an item's last success left goes to the output cache (before a re-run, or
        when the item is gone from the declaration); anything else in its folder goes."""
        folder = self.folder / "data" / item_id
        if not folder.is_dir():
            return
        if (
            fingerprint is not None
            and run_id is not None
            and outputs is not None
            and self.now.scan.cache_outputs
            and await asyncio.to_thread(item_folders.outputs_digest, folder) == outputs
        ):
            await self.parts.cache.stash(
                node_id=self.row.id,
                outputs_folder=folder,
                fingerprint=fingerprint,
                run_id=run_id,
                outputs=outputs,
            )
        # What is left (all of it when not stashed): the item starts afresh.
        await asyncio.to_thread(folders.purge, folder)

    async def counted(self, *, now: bool = False) -> None:
        """Tell the canvases the node's item counts, at most every COUNTS_EVERY_SECONDS: a
        change inside a window is told at its end, so the counts never lag behind."""
        wait = COUNTS_EVERY_SECONDS - (time.monotonic() - self._announced)
        if now or wait <= 0:
            await self._announce()
        elif self._trailing is None or self._trailing.done():
            self._trailing = asyncio.create_task(self._announce_in(wait))

    async def _announce_in(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        try:
            await self._announce()
        except Exception:  # the counts are told again at the node's end
            log.exception("fusionpipe: could not announce the items of %s", self.row.id)

    async def _announce(self) -> None:
        self._announced = time.monotonic()
        await self.parts.recorder.items_counted(self.run_id, self.pipeline_id, self.row.id)

    # -- the node's outcome ------------------------------------------------------------------

    async def _outcome(self, selection: Selection | None) -> bool:
        recorder, node_id = self.parts.recorder, self.row.id
        if self._trailing is not None:
            self._trailing.cancel()
        await self.counted(now=True)
        async with self.parts.db.transaction() as conn:
            counted = (await item_store.counts(conn, [node_id])).get(node_id, {"total": 0})
            manifest = await item_store.manifest(conn, node_id)
        await asyncio.to_thread(item_folders.write_manifest, self.folder, manifest)
        total, failed = counted["total"], counted.get("failed", 0)
        killer = self.parts.running.killed_by(node_id)
        if killer is not None:
            return await recorder.fail(
                self.run_id, self.pipeline_id, node_id, None, f"{KILLED_BY}{killer}"
            )
        if failed:
            why = f"{failed} of {total} items failed"
            await note(self.log_path, f"fusionpipe: {why}\n")
            return await recorder.fail(self.run_id, self.pipeline_id, node_id, None, why)
        if counted.get("completed", 0) == total:
            await note(self.log_path, f"fusionpipe: all {total} items completed\n")
            outputs, learnt = await self.parts.staleness.outputs_now(
                node_id, self.folder, by_stat=self.now.scan.outputs_by_stat
            )
            return await recorder.succeed(
                self.run_id,
                self.pipeline_id,
                node_id,
                self.now.fingerprint,
                self.now.parts.to_json(),
                outputs,
                learnt=learnt,
            )
        left = total - counted.get("completed", 0)
        why = f"{left} of {total} items not run" + (" (not asked for)" if selection else "")
        return await recorder.items_left(self.run_id, self.pipeline_id, node_id, why)


def _chosen(
    items: list[Item], known: dict[str, item_store.ItemRow], selection: Selection | None
) -> list[Item]:
    if selection is None:
        return items
    if selection == "failed":
        return [item for item in items if known[item.id].status == "failed"]
    wanted = set(selection)
    return [item for item in items if item.id in wanted]


def _present(folder: Path, items: list[Item]) -> set[str]:
    """The items whose outputs folder exists (one deleted by hand runs again)."""
    data = folder / "data"
    return {item.id for item in items if (data / item.id).is_dir()}


def _make_folders(folder: Path, item_id: str) -> None:
    item_folders.prepare(folder, item_id)
    make_folder(item_logs(folder, item_id), parents=True, exist_ok=True)
    make_folder(folder / "reports" / "items" / item_id, parents=True, exist_ok=True)
