"""Every write a run makes to the database, each fenced by the run's lease (see leases.py) and
each with the event that tells every open lab: the run's status, and each node's claim, start,
attempts and outcome. Nothing else in the engine writes about a run."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from ...core import planning
from ...fingerprint.hashing import StatCache
from ...models import Status
from ...store import events
from ...store import fingerprints as fp_store
from ...store import items as item_store
from ...store import metrics as metric_store
from ...store import nodes as node_store
from ...store import runs as run_store
from ...store.fingerprints import FingerprintRow
from ...store.runs import SharedResult
from ..freshness.staleness import NodeNow, save_stat_cache
from .leases import Leases
from .running import HOST


class Recorder:
    def __init__(self, leases: Leases) -> None:
        self.leases = leases
        self.requested_by: dict[str, str] = {}  # run id -> who started it

    # -- the run -----------------------------------------------------------------------------

    async def run_status(self, run_id: str, pipeline_id: str, status: str) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.set_run_status(conn, run_id, status)
            await self._announce_run(conn, run_id, pipeline_id, status)

    async def close_run(self, run_id: str, pipeline_id: str, status: str, reason: str) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.close_run(conn, run_id, status, reason)
            await self._announce_run(conn, run_id, pipeline_id, status)

    async def _announce_run(
        self, conn: AsyncConnection, run_id: str, pipeline_id: str, status: str
    ) -> None:
        # Who started it, so that their lab can tell them when it ends.
        await events.announce(
            conn,
            "run.updated",
            run_id=run_id,
            pipeline_id=pipeline_id,
            status=status,
            requested_by=self.requested_by.get(run_id),
        )

    # -- a node ------------------------------------------------------------------------------

    async def outcome(
        self, run_id: str, node_id: str, status: str, reason: str, exit_code: int | None = None
    ) -> None:
        """What the run did with a node it did not execute (skipped, or a result it took)."""
        async with self.leases.fenced(run_id) as conn:
            await run_store.node_finished(
                conn, run_id, node_id, status, exit_code=exit_code, reason=reason
            )

    async def claim(
        self, run_id: str, pipeline_id: str, node_id: str, now: NodeNow
    ) -> tuple[str | SharedResult | None, list[dict[str, Any]]]:
        """Atomically mark the node running and record what this execution starts from: its
        previous status (or another run's result to take instead, or None when it may not
        start), and the identities of the node to write into its folder."""
        async with self.leases.fenced(run_id) as conn:
            previous = await run_store.claim_node(conn, node_id, run_id, now.fingerprint)
            if previous is None or isinstance(previous, SharedResult):
                return previous, []
            inputs = await fp_store.parent_runs(conn, node_id)
            identities = await node_store.identities(conn, [node_id])
            await run_store.node_claimed(
                conn,
                run_id,
                node_id,
                fingerprint=now.fingerprint,
                parts=now.parts.to_json(),
                inputs_from=inputs,
            )
            await self._node_status(conn, run_id, pipeline_id, node_id, "running")
        return previous, identities

    async def up_to_date(
        self,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        now: NodeNow,
        assessment: planning.Assessment,
    ) -> None:
        """Nothing the node reads changed (early cutoff): it keeps its outputs, and loses the
        "upstream" reasons a parent's re-run gave it."""
        async with self.leases.fenced(run_id) as conn:
            await run_store.node_finished(conn, run_id, row.id, "skipped", reason="up to date")
            changed = assessment.status.value != row.status or row.stale_reasons
            if changed and await fp_store.write_assessment(
                conn,
                row.id,
                expected_status=row.status,
                expected_fingerprint=row.fingerprint,
                status=assessment.status.value,
                reasons=assessment.reasons,
                outputs_seen=now.scan.outputs,
            ):
                await self._node_status(
                    conn,
                    run_id,
                    pipeline_id,
                    row.id,
                    assessment.status.value,
                    stale_reasons=assessment.reasons,
                )

    async def attempt_started(
        self,
        run_id: str,
        node_id: str,
        backend: str,
        pid: int | None,
        attempt: int,
        of: int,
        job_id: str | None = None,
    ) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.node_started(
                conn,
                run_id,
                node_id,
                backend,
                HOST,
                pid,
                attempt=attempt,
                attempts=of,
                job_id=job_id,
            )

    async def job_submitted(self, run_id: str, node_id: str, backend: str, job_id: str) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.job_submitted(conn, run_id, node_id, backend, job_id)

    async def attempt_finished(
        self, run_id: str, node_id: str, attempt: int, exit_code: int, reason: str
    ) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.attempt_finished(
                conn, run_id, node_id, attempt, exit_code=exit_code, reason=reason
            )

    async def succeed(
        self,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        fingerprint: str,
        parts: dict[str, Any],
        outputs: str,
        *,
        restored_from: str | None = None,
        learnt: dict[str, StatCache] | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> bool:
        """The node completed (ran, or was restored from the cache); False when a kill ended
        it first."""
        async with self.leases.fenced(run_id) as conn:
            if metrics:
                await metric_store.of_run(conn, run_id, node_id, metrics)
            if learnt:
                await save_stat_cache(conn, learnt)
            recorded = await fp_store.record_success(
                conn,
                node_id,
                fingerprint=fingerprint,
                parts=parts,
                outputs=outputs,
                run_id=run_id,
                restored_from=restored_from,
            )
            if not recorded:
                await run_store.node_finished(
                    conn, run_id, node_id, "failed", reason="ended before it could complete"
                )
                return False
            await run_store.node_finished(
                conn,
                run_id,
                node_id,
                "completed",
                exit_code=None if restored_from else 0,
                reason=f"restored from run {restored_from}" if restored_from else "",
                outputs_digest=outputs,
                restored_from=restored_from,
            )
            await self._node_status(
                conn, run_id, pipeline_id, node_id, "completed", stale_reasons=[]
            )
        return True

    async def fail(
        self,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        code: int | None,
        reason: str,
        *,
        metrics: dict[str, Any] | None = None,
    ) -> bool:
        """The node failed; always False, what a node step returns for it."""
        async with self.leases.fenced(run_id) as conn:
            if metrics:
                await metric_store.of_run(conn, run_id, node_id, metrics)
            await item_store.end_running(conn, node_id, reason)
            await node_store.finish_running(conn, node_id, Status.FAILED.value)
            await run_store.node_finished(
                conn, run_id, node_id, "failed", exit_code=code, reason=reason
            )
            await self._node_status(conn, run_id, pipeline_id, node_id, "failed")
        return False

    async def items_left(self, run_id: str, pipeline_id: str, node_id: str, why: str) -> bool:
        """A mapped node ran what it was asked and no item failed, yet some did not run: it
        stays stale. True: nothing failed."""
        async with self.leases.fenced(run_id) as conn:
            await node_store.finish_running(conn, node_id, Status.STALEDATA.value)
            await run_store.node_finished(conn, run_id, node_id, "completed", reason=why)
            await self._node_status(conn, run_id, pipeline_id, node_id, "staledata")
        return True

    # -- an item of a mapped node ------------------------------------------------------------

    async def items_synced(
        self,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        items: list[tuple[str, dict[str, Any]]],
    ) -> tuple[dict[str, item_store.ItemRow], list[item_store.Removed]]:
        """The node's items are now those its declaration gives."""
        async with self.leases.fenced(run_id) as conn:
            synced = await item_store.sync(conn, node_id, items)
            await self._items_counted(conn, pipeline_id, node_id)
        return synced

    async def items_planned(self, run_id: str, node_id: str, item_ids: list[str]) -> None:
        async with self.leases.fenced(run_id) as conn:
            await item_store.planned(conn, run_id, node_id, item_ids)

    async def items_unstarted(self, run_id: str, node_id: str, reason: str) -> None:
        async with self.leases.fenced(run_id) as conn:
            await item_store.unstarted(conn, run_id, node_id, reason)

    async def item_started(self, run_id: str, node_id: str, item_id: str) -> None:
        async with self.leases.fenced(run_id) as conn:
            await item_store.started(conn, run_id, node_id, item_id)

    async def items_queued(
        self, run_id: str, node_id: str, item_ids: list[str], queued: bool
    ) -> None:
        async with self.leases.fenced(run_id) as conn:
            await item_store.set_queued(conn, node_id, item_ids, queued)

    async def item_attempt(self, run_id: str, node_id: str, item_id: str, attempt: int) -> None:
        async with self.leases.fenced(run_id) as conn:
            await item_store.attempted(conn, run_id, node_id, item_id, attempt)

    async def item_finished(self, run_id: str, node_id: str, item_id: str, **how: Any) -> None:
        async with self.leases.fenced(run_id) as conn:
            await item_store.finished(conn, run_id, node_id, item_id, **how)

    async def items_counted(self, run_id: str, pipeline_id: str, node_id: str) -> None:
        """Tell every canvas how the node's items stand (the counts, never the list)."""
        async with self.leases.fenced(run_id) as conn:
            await self._items_counted(conn, pipeline_id, node_id)

    @staticmethod
    async def _items_counted(conn: AsyncConnection, pipeline_id: str, node_id: str) -> None:
        counted = (await item_store.counts(conn, [node_id])).get(node_id)
        await events.announce(
            conn, "node.items", node_id=node_id, pipeline_id=pipeline_id, items=counted
        )

    @staticmethod
    async def _node_status(
        conn: AsyncConnection,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        status: str,
        **more: Any,
    ) -> None:
        await events.node_status(
            conn, node_id, status, **more, run_id=run_id, pipeline_id=pipeline_id
        )
