"""One node of a run, decided when its parents have finished: skipped when up to date (early
cutoff), the result of another run's execution of it taken when there is one (see the claim in
store/runs.py), restored from the output cache when an earlier run with the same fingerprint
left its outputs there, otherwise claimed and executed (attempts.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...core import planning
from ...folders import node_folders as folders
from ...folders.logs import note
from ...models import Status
from ...store import items as item_store
from ...store import nodes as node_store
from ...store import runs as run_store
from ...store.fingerprints import FingerprintRow
from ...store.runs import SharedResult
from ..freshness.staleness import NodeNow
from ..graph.edits import write_identities
from .attempts import Attempts
from .leases import TakenOver
from .mapped import MappedRun, Selection
from .parts import EngineParts
from .placement import Placement
from .slots import Need

log = logging.getLogger(__name__)

# What a mapped node holds itself: nothing; each of its items holds its own slots.
NO_SLOT = Need(0, 0)
# How often a run waiting for another run's execution of a node looks again.
WAIT_POLL_SECONDS = 0.2


class NodeStep:
    def __init__(self, parts: EngineParts, attempts: Attempts) -> None:
        self.parts = parts
        self.attempts = attempts

    async def do(
        self, run_id: str, pipeline_id: str, node_id: str, selection: Selection | None = None
    ) -> bool:
        """Decide and do what the node needs (of a mapped node: the items in ``selection``,
        all by default); True when it ends up completed."""
        while run_id not in self.parts.running.cancelled:
            seen = await self.parts.staleness.assess_one(node_id)
            if seen is None:
                await self.parts.recorder.outcome(
                    run_id, node_id, "skipped", "the node was deleted"
                )
                return False
            row, now, assessment = seen.row, seen.now, seen.assessment
            waiting_on = [
                p.tag for p in seen.parents.values() if p.status != Status.COMPLETED.value
            ]
            if waiting_on:
                why = f"parent(s) not completed: {', '.join(waiting_on)}"
                await self.parts.recorder.outcome(run_id, node_id, "skipped", why)
                return False
            if row.status == Status.RUNNING.value:
                if not await self._wait_while_running(run_id, node_id):
                    return False  # this run was cancelled meanwhile
                async with self.parts.db.transaction() as conn:
                    taken = await run_store.shared_result(conn, run_id, node_id, now.fingerprint)
                if taken is not None:
                    return await self._take(run_id, node_id, taken)
                continue  # it ended some other way: decide again
            folder = folders.node_path(self.parts.settings.data_path, row.folder)
            plan = self.parts.place(folder)
            # A mapped node's items are restored one by one, and hold their slots one by one.
            mapped = plan.mapped is not None and plan.problem is None
            cached = None
            if (
                now.scan.cache_outputs
                and not row.stale_manual
                and not assessment.up_to_date
                and not mapped
            ):
                cached = await self.parts.cache.find(now.fingerprint, node_id)
            action = planning.decide(assessment, bool(row.stale_manual), cached is not None)
            if action == planning.Action.SKIP:
                await self.parts.recorder.up_to_date(run_id, pipeline_id, row, now, assessment)
                return True
            need = NO_SLOT if mapped else Need() if cached is not None else plan.need
            async with self.parts.pool.hold(need) as gpus:
                if run_id in self.parts.running.cancelled:
                    return False
                recorder = self.parts.recorder
                previous, identities = await recorder.claim(run_id, pipeline_id, node_id, now)
                if isinstance(previous, str):
                    # Held here from the claim's commit on, with no wait in between: a kill
                    # finds the node even before its process starts.
                    with self.parts.running.claimed(run_id, node_id):
                        return await self._claimed(
                            run_id,
                            pipeline_id,
                            row,
                            now,
                            folder,
                            plan,
                            previous,
                            cached,
                            gpus,
                            identities,
                            selection,
                        )
                if isinstance(previous, SharedResult):
                    return await self._take(run_id, node_id, previous)
                async with self.parts.db.transaction() as conn:
                    status = await node_store.status_of(conn, node_id)
                if status == Status.RUNNING.value:
                    continue  # another run claimed it first: wait for it
                why = "it was locked or shared with another pipeline meanwhile"
                await self.parts.recorder.outcome(run_id, node_id, "skipped", why)
                return False
        return False

    async def _claimed(
        self,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        now: NodeNow,
        folder: Path,
        plan: Placement,
        previous: str,
        cached: Any,
        gpus: list[str],
        identities: list[dict[str, Any]],
        selection: Selection | None,
    ) -> bool:
        """The node is claimed: restore it, refuse it, or execute it; never left running.
        Its descendants now read outputs about to change (they show "upstream"), and its folder
        says who it is."""
        try:
            self.parts.staleness.request(nodes=[row.id])
            data_path = self.parts.settings.data_path
            await asyncio.to_thread(write_identities, data_path, identities)
            if cached is not None:
                return await self._restore(run_id, pipeline_id, row, now, cached, folder)
            if plan.problem is not None:
                return await self._refuse(run_id, pipeline_id, row.id, folder, plan)
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            header = f"fusionpipe: run {run_id}, node {row.id} ({row.kind}), {stamp}\n"
            await note(folder / "logs" / f"{run_id}.log", header)
            if plan.mapped is not None:
                mapped = MappedRun(
                    self.parts, self.attempts, run_id, pipeline_id, row, now, folder, plan
                )
                return await mapped.execute(selection)
            await self._make_room(row, previous, now, folder)
            async with self.parts.db.transaction() as conn:
                await item_store.forget(conn, [row.id])  # mapped once, not any more
            return await self.attempts.execute(run_id, pipeline_id, row, now, folder, plan, gpus)
        except TakenOver:
            raise
        except Exception as err:
            log.exception("fusionpipe: node %s failed in run %s", row.id, run_id)
            await self._fail_claimed(run_id, pipeline_id, row, err)
            return False

    async def _wait_while_running(self, run_id: str, node_id: str) -> bool:
        """Another run executes the node: wait for it to end. False when this run was
        cancelled meanwhile."""
        while run_id not in self.parts.running.cancelled:
            async with self.parts.db.transaction() as conn:
                status = await node_store.status_of(conn, node_id)
            if status != Status.RUNNING.value:
                return True
            await asyncio.sleep(WAIT_POLL_SECONDS)
        return False

    async def _take(self, run_id: str, node_id: str, taken: SharedResult) -> bool:
        """Take another run's result for the node instead of executing it again."""
        if taken.status == "completed":
            why = f"up to date: made by run {taken.run_id}"
            await self.parts.recorder.outcome(run_id, node_id, "skipped", why)
            return True
        why = f"failed in run {taken.run_id}" + (f": {taken.reason}" if taken.reason else "")
        await self.parts.recorder.outcome(run_id, node_id, "failed", why, exit_code=taken.exit_code)
        return False

    async def _restore(
        self,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        now: NodeNow,
        cached: Any,
        folder: Path,
    ) -> bool:
        await self.parts.cache.restore(cached, folder / "data")
        why = f"restored from run {cached.run_id}"
        await note(folder / "logs" / f"{run_id}.log", f"fusionpipe: {why}, nothing to run\n")
        return await self.parts.recorder.succeed(
            run_id,
            pipeline_id,
            row.id,
            now.fingerprint,
            now.parts.to_json(),
            cached.outputs,
            restored_from=cached.run_id,
        )

    async def _refuse(
        self, run_id: str, pipeline_id: str, node_id: str, folder: Path, plan: Placement
    ) -> bool:
        """A node that can never run as asked fails at once, saying why."""
        why = f"cannot run: {plan.problem}"
        await note(folder / "logs" / f"{run_id}.log", f"fusionpipe: {why}\n")
        return await self.parts.recorder.fail(run_id, pipeline_id, node_id, None, why)

    async def _make_room(
        self, row: FingerprintRow, previous: str, now: NodeNow, folder: Path
    ) -> None:
        """Before a re-run: outputs a successful run made, untouched since, go to the cache
        (by a rename); anything else in ``data/`` is cleared."""
        kept = (
            previous in (Status.COMPLETED.value, Status.STALEDATA.value)
            and row.fingerprint is not None
            and row.made_by_run is not None
            and row.outputs_recorded is not None
            and row.outputs_seen == row.outputs_recorded
            and now.scan.cache_outputs
            and await self.parts.cache.stash(
                node_id=row.id,
                outputs_folder=folder / "data",
                fingerprint=row.fingerprint,
                run_id=row.made_by_run,
                outputs=row.outputs_recorded,
            )
        )
        if not kept and previous != Status.READY.value:
            await asyncio.to_thread(folders.clear_outputs, folder)

    async def _fail_claimed(
        self, run_id: str, pipeline_id: str, row: FingerprintRow, err: BaseException
    ) -> None:
        """An unexpected error after the claim: the node must not stay ``running``."""
        why = f"fusionpipe failed while running it: {type(err).__name__}: {err}"
        folder = folders.node_path(self.parts.settings.data_path, row.folder)
        try:
            await note(folder / "logs" / f"{run_id}.log", f"\nfusionpipe: {why}\n")
        except OSError:
            log.exception("fusionpipe: could not write the log of node %s", row.id)
        await self.parts.recorder.fail(run_id, pipeline_id, row.id, None, why)
