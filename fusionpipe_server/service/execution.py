"""Executing a run: nodes in DAG order, in parallel, each decided when its parents have
finished: skipped when up to date, restored from the output cache when an earlier run with the
same fingerprint left its outputs there, otherwise run.

A node executes once per fingerprint, whatever number of runs ask for it: a run that finds it
already running waits for that execution and takes its result. Any error after a node is
claimed ends it ``failed`` with the reason in its log; nothing is left ``running``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from .. import planning
from ..errors import FusionpipeError
from ..fingerprint.hashing import StatCache
from ..models import NodeKind, Status
from ..nodes import environments, folders, parameters
from ..nodes.scheduling import Scheduling, format_duration
from ..runners.base import Execution, NodeJob, NodeRunner
from ..runners.local import LocalRunner
from ..runners.ray import RayRunner
from ..store import events
from ..store import fingerprints as fp_store
from ..store import nodes as node_store
from ..store import runs as run_store
from ..store.database import Database
from ..store.fingerprints import FingerprintRow
from ..store.runs import LeftRunning
from .attempts import NodePlan, RetryPause, failure, plan_node, wait_within
from .common import ServiceBase, Settings
from .environments import EnvironmentService
from .graph import write_identities
from .leases import Leases, TakenOver
from .node_jobs import node_job
from .output_cache import OutputCache
from .slots import Need, SlotPool
from .staleness import NodeNow, StalenessService, save_stat_cache

log = logging.getLogger(__name__)

HOST = socket.gethostname()
# How often a run waiting for another run's execution of a node looks again.
WAIT_POLL_SECONDS = 0.2


class RunEngine(ServiceBase):
    """The runs this server executes, their node processes, and how to stop them."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        staleness: StalenessService,
        cache: OutputCache,
        environments: EnvironmentService,
        runner: NodeRunner | None = None,
    ) -> None:
        super().__init__(db, settings)
        self.staleness = staleness
        self.cache = cache
        self.environments = environments
        self.executor = f"{HOST}:{os.getpid()}"
        self.ray = RayRunner(
            settings.ray_address,
            settings.max_parallel_nodes,
            auth_token_path=settings.ray_auth_token_path,
        )
        # run_mode -> runner; "local" is the configured runner (FusionpipeApp.runner_class).
        self.local = runner if runner is not None else LocalRunner()
        self.runners: dict[str, NodeRunner] = {"local": self.local, "ray": self.ray}
        self.pool = SlotPool(max(1, settings.max_parallel_nodes), list(settings.local_gpus))
        self.executions: dict[str, tuple[str, Execution]] = {}  # node id -> (run id, process)
        self.tasks: dict[str, asyncio.Task[None]] = {}  # run id -> scheduling task
        self.cancelled: set[str] = set()
        self.killed: dict[str, str] = {}  # node id -> who killed it
        self.requested_by: dict[str, str] = {}  # run id -> who started it
        # Node processes of runs taken back after a restart, to watch instead of start.
        self.adopted: dict[str, LeftRunning] = {}
        # The server is stopping and leaves the nodes that outlive it running.
        self.leaving = False
        self.leases = Leases(db, self.executor, settings.run_lease_seconds)

    # -- a run -------------------------------------------------------------------------------

    def launch(
        self,
        run_id: str,
        pipeline_id: str,
        requested_by: str,
        planned: list[str],
        pairs: list[tuple[str, str]],
    ) -> None:
        self.requested_by[run_id] = requested_by
        self.tasks[run_id] = asyncio.create_task(self._execute(run_id, pipeline_id, planned, pairs))
        self.leases.keep(self.tasks)

    async def _execute(
        self, run_id: str, pipeline_id: str, planned: list[str], pairs: list[tuple[str, str]]
    ) -> None:
        running: dict[asyncio.Task[bool], str] = {}
        try:
            await self._set_run(run_id, pipeline_id, "running")
            sorter: TopologicalSorter[str] = TopologicalSorter({n: () for n in planned})
            for parent, child in pairs:
                sorter.add(child, parent)
            sorter.prepare()
            failed = False
            while sorter.is_active() and run_id not in self.cancelled:
                for node_id in sorter.get_ready():
                    task = asyncio.create_task(self._node(run_id, pipeline_id, node_id))
                    running[task] = node_id
                if not running:
                    break  # what is left waits on a failed node
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    node_id = running.pop(task)
                    if task.result():
                        sorter.done(node_id)
                    else:
                        failed = True
            if running:  # cancelled: let the killed nodes report
                await asyncio.wait(running)
            cancelled = run_id in self.cancelled
            status = "cancelled" if cancelled else "failed" if failed else "completed"
            reason = "the run was cancelled" if cancelled else "a parent did not complete"
            async with self.leases.fenced(run_id) as conn:
                await run_store.close_run(conn, run_id, status, reason)
                await self._announce_run(conn, run_id, pipeline_id, status)
        except (asyncio.CancelledError, TakenOver) as stop:
            # The server is stopping, or another server took the run over: the run stays
            # open, for the next server to take back or for the one holding it now.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if run_id in self.leases.lost:
                log.warning("fusionpipe: run %s left to %s", run_id, self.leases.lost[run_id])
            elif isinstance(stop, asyncio.CancelledError):
                raise
        except Exception:
            log.exception("fusionpipe: run %s stopped on an error", run_id)
            try:
                async with self.leases.fenced(run_id) as conn:
                    await run_store.close_run(conn, run_id, "failed", "the run stopped on an error")
                    await self._announce_run(conn, run_id, pipeline_id, "failed")
            except Exception:
                log.exception("fusionpipe: could not close run %s", run_id)
        finally:
            self.tasks.pop(run_id, None)
            self.requested_by.pop(run_id, None)
            self.cancelled.discard(run_id)
            self.leases.lost.pop(run_id, None)
            # What the run changed shows on every canvas, with its reasons.
            self.staleness.request(pipelines=[pipeline_id])

    async def _set_run(self, run_id: str, pipeline_id: str, status: str) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.set_run_status(conn, run_id, status)
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

    async def _node(self, run_id: str, pipeline_id: str, node_id: str) -> bool:
        """Decide and do what the node needs; True when it ends up completed."""
        adopted = self.adopted.pop(node_id, None)
        if adopted is not None:
            return await self._watch_adopted(adopted)
        while run_id not in self.cancelled:
            seen = await self.staleness.assess_one(node_id)
            if seen is None:
                await self._record(run_id, node_id, "skipped", "the node was deleted")
                return False
            row, now, assessment = seen.row, seen.now, seen.assessment
            waiting_on = [
                p.tag for p in seen.parents.values() if p.status != Status.COMPLETED.value
            ]
            if waiting_on:
                why = f"parent(s) not completed: {', '.join(waiting_on)}"
                await self._record(run_id, node_id, "skipped", why)
                return False
            if row.status == Status.RUNNING.value:
                outcome = await self._wait_for_other(run_id, node_id, now.fingerprint)
                if outcome is None:
                    continue  # it ended some other way: decide again
                return outcome
            cached = None
            if now.scan.cache_outputs and not row.stale_manual and not assessment.up_to_date:
                cached = await self.cache.find(now.fingerprint, node_id)
            action = planning.decide(assessment, bool(row.stale_manual), cached is not None)
            if action == planning.Action.SKIP:
                await self._up_to_date(run_id, pipeline_id, row, now, assessment)
                return True
            folder = folders.node_path(self.settings.data_path, row.folder)
            plan = plan_node(folder, self.settings.default_run_mode, self.runners, self.pool)
            need = Need() if cached is not None else plan.need
            async with self.pool.hold(need) as gpus:
                if run_id in self.cancelled:
                    return False
                previous = await self._claim(run_id, pipeline_id, node_id, now)
                if previous is None:
                    async with self.db.transaction() as conn:
                        status = await node_store.status_of(conn, node_id)
                    if status == Status.RUNNING.value:
                        continue  # another run claimed it first: wait for it
                    why = "it was locked or shared with another pipeline meanwhile"
                    await self._record(run_id, node_id, "skipped", why)
                    return False
                try:
                    if cached is not None:
                        return await self._restore(run_id, pipeline_id, row, now, cached, folder)
                    if plan.problem is not None:
                        return await self._refuse(run_id, pipeline_id, row.id, folder, plan)
                    return await self._execute_node(
                        run_id, pipeline_id, row, previous, now, folder, plan, gpus
                    )
                except TakenOver:
                    raise
                except Exception as err:
                    log.exception("fusionpipe: node %s failed in run %s", node_id, run_id)
                    await self._fail_claimed(run_id, pipeline_id, row, err)
                    return False
        return False

    async def _wait_for_other(self, run_id: str, node_id: str, fingerprint: str) -> bool | None:
        """Another run executes the node: wait for its end and take its result when it ran
        what this run would (same fingerprint). None: decide again."""
        async with self.db.transaction() as conn:
            other = await run_store.running_execution(conn, node_id)
        while run_id not in self.cancelled:
            async with self.db.transaction() as conn:
                status = await node_store.status_of(conn, node_id)
            if status != Status.RUNNING.value:
                break
            await asyncio.sleep(WAIT_POLL_SECONDS)
        else:
            return False
        if other is None:
            return None
        async with self.db.transaction() as conn:
            result = await run_store.execution_result(conn, other, node_id)
        if result is None or result[1] != fingerprint:
            return None
        status, _, exit_code = result
        if status == "completed":
            await self._record(run_id, node_id, "skipped", f"up to date: made by run {other}")
            return True
        why = f"failed in run {other}" + (f" (exit code {exit_code})" if exit_code else "")
        await self._record(run_id, node_id, "failed", why, exit_code=exit_code)
        return False

    async def _up_to_date(
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
                await events.announce(
                    conn,
                    "node.status",
                    node_id=row.id,
                    status=assessment.status.value,
                    stale_reasons=assessment.reasons,
                    run_id=run_id,
                    pipeline_id=pipeline_id,
                )

    async def _claim(self, run_id: str, pipeline_id: str, node_id: str, now: NodeNow) -> str | None:
        """Atomically mark the node running and record what this execution starts from; its
        previous status, or None when it may not start (another run got it first)."""
        async with self.leases.fenced(run_id) as conn:
            previous = await run_store.claim_node(conn, node_id)
            if previous is None:
                return None
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
            await events.announce(
                conn,
                "node.status",
                node_id=node_id,
                status="running",
                run_id=run_id,
                pipeline_id=pipeline_id,
            )
        # Its descendants now read outputs about to change: they show "upstream".
        self.staleness.request(nodes=[node_id])
        await asyncio.to_thread(write_identities, self.settings.data_path, identities)
        return previous

    async def _restore(
        self,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        now: NodeNow,
        cached: Any,
        folder: Path,
    ) -> bool:
        await self.cache.restore(cached, folder)
        why = f"restored from run {cached.run_id}"
        append_log(folder / "logs" / f"{run_id}.log", f"fusionpipe: {why}, nothing to run\n")
        return await self._succeed(
            run_id,
            pipeline_id,
            row.id,
            now.fingerprint,
            now.parts.to_json(),
            cached.outputs,
            restored_from=cached.run_id,
        )

    async def _refuse(
        self, run_id: str, pipeline_id: str, node_id: str, folder: Path, plan: NodePlan
    ) -> bool:
        """A node that can never run as asked fails at once, saying why."""
        why = f"cannot run: {plan.problem}"
        append_log(folder / "logs" / f"{run_id}.log", f"fusionpipe: {why}\n")
        return await self._fail(run_id, pipeline_id, node_id, None, why)

    async def _execute_node(
        self,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        previous: str,
        now: NodeNow,
        folder: Path,
        plan: NodePlan,
        gpus: list[str],
    ) -> bool:
        """Run the node, again after a failure as often as its ``retries`` allow; ``data/``
        stays as the failed attempt left it (checkpoints live there)."""
        log_path = folder / "logs" / f"{run_id}.log"
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        append_log(log_path, f"fusionpipe: run {run_id}, node {row.id} ({row.kind}), {stamp}\n")
        await self._make_room(row, previous, now, folder)
        if not await self.environments.ensure(row.id, row.tag, folder, log_path):
            why = "its environment could not be built (see the log)"
            return await self._fail(run_id, pipeline_id, row.id, None, why)
        if run_id in self.cancelled:  # while the environment was being built
            why = "the run was cancelled before the node started"
            append_log(log_path, f"fusionpipe: {why}\n")
            return await self._fail(run_id, pipeline_id, row.id, None, why)
        env = environments.environment(folder)
        job = node_job(
            self.settings, run_id, row.id, NodeKind(row.kind), folder, log_path, env, plan, gpus
        )
        with noted_if_taken_over(log_path):
            return await self._attempts(run_id, pipeline_id, row.id, now, plan, job)

    async def _attempts(
        self,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        now: NodeNow,
        plan: NodePlan,
        job: NodeJob,
    ) -> bool:
        """Start the node, and again after a failed attempt while its retries allow."""
        runner, scheduling, log_path = plan.runner, plan.scheduling, job.log_path
        attempts = scheduling.attempts
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
                append_log(log_path, f"\nfusionpipe: attempt {attempt} of {attempts}, {stamp}\n")
            try:
                execution = await runner.start(job)
            except (OSError, ValueError, FusionpipeError) as err:
                append_log(log_path, f"fusionpipe: could not start the node: {err}\n")
                problem = f"could not start: {err}"
                return await self._fail(run_id, pipeline_id, node_id, None, problem)
            async with self.leases.fenced(run_id) as conn:
                await run_store.node_started(
                    conn,
                    run_id,
                    node_id,
                    runner.name,
                    HOST,
                    execution.pid,
                    attempt=attempt,
                    attempts=attempts,
                )
            code, why, killed = await self._await_attempt(
                run_id, node_id, execution, log_path, attempt, scheduling.timeout
            )
            if why is None:
                return await self._completed(
                    run_id,
                    pipeline_id,
                    node_id,
                    log_path,
                    fingerprint=now.fingerprint,
                    parts=now.parts.to_json(),
                    by_stat=now.scan.outputs_by_stat,
                )
            retry = (
                attempt < attempts
                and not killed
                and run_id not in self.cancelled
                and not self.leaving
            )
            if not retry:
                return await self._fail(run_id, pipeline_id, node_id, code, why)
            killer = await self._pause(run_id, node_id, log_path, scheduling)
            if killer is not None:
                why = f"killed by {killer} before attempt {attempt + 1} (attempt {attempt}: {why})"
                return await self._fail(run_id, pipeline_id, node_id, code, why)
        raise AssertionError("unreachable: the last attempt returns")

    async def _pause(
        self, run_id: str, node_id: str, log_path: Path, scheduling: Scheduling
    ) -> str | None:
        """Wait ``retry_delay`` before the next attempt; who ended the wait when the node was
        killed, its run cancelled or the server stopped meanwhile (None: go on)."""
        delay = scheduling.retry_delay
        later = f" in {format_duration(delay)}" if delay else ""
        append_log(log_path, f"fusionpipe: trying again{later}\n")
        pause = RetryPause()
        self.executions[node_id] = (run_id, pause)
        try:
            await pause.sleep(delay)
        finally:
            self.executions.pop(node_id, None)
        killer = self.killed.pop(node_id, None)
        if killer is None and (run_id in self.cancelled or self.leaving):
            killer = "the run stopping"
        if killer is not None:
            append_log(log_path, f"fusionpipe: killed by {killer} before it ran again\n")
        return killer

    async def _await_attempt(
        self,
        run_id: str,
        node_id: str,
        execution: Execution,
        log_path: Path,
        attempt: int,
        timeout: float | None,
        spent: float = 0.0,
    ) -> tuple[int, str | None, bool]:
        """Wait for an attempt's process (started here, or taken back after a restart and
        ``spent`` seconds old) within its time limit; record how it ended. The exit code, why
        it failed (None: it succeeded) and whether someone killed it."""
        self.executions[node_id] = (run_id, execution)
        try:
            ended = await wait_within(execution, None if timeout is None else timeout - spent)
        finally:
            self.executions.pop(node_id, None)
        killer = self.killed.pop(node_id, None)
        why = failure(
            ended.code,
            killer=killer,
            timed_out=ended.timed_out,
            lost=execution.lost,
            timeout=timeout,
        )
        async with self.leases.fenced(run_id) as conn:
            await run_store.attempt_finished(
                conn, run_id, node_id, attempt, exit_code=ended.code, reason=why or "completed"
            )
        append_log(log_path, f"\nfusionpipe: {why or 'completed'}\n")
        return ended.code, why, killer is not None

    async def _completed(
        self,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        log_path: Path,
        *,
        fingerprint: str,
        parts: dict[str, Any],
        by_stat: bool,
    ) -> bool:
        folder = log_path.parent.parent
        outputs, learnt = await self.staleness.outputs_now(node_id, folder, by_stat=by_stat)
        return await self._succeed(
            run_id, pipeline_id, node_id, fingerprint, parts, outputs, learnt=learnt
        )

    async def _watch_adopted(self, left: LeftRunning) -> bool:
        """A node process a previous server started: watch it to its end, within what is left
        of its time limit, then record that as if this server had started it. It is not
        retried: its retries would need the slots and GPUs it held on the server that left."""
        folder = folders.node_path(self.settings.data_path, left.folder)
        log_path = folder / "logs" / f"{left.run_id}.log"
        append_log(log_path, f"\nfusionpipe: taken back by the server {self.executor}\n")
        with noted_if_taken_over(log_path):
            return await self._watch_adopted_in(left, folder, log_path)

    async def _watch_adopted_in(self, left: LeftRunning, folder: Path, log_path: Path) -> bool:
        assert left.pid is not None and left.fingerprint and left.parts is not None
        runner = next((r for r in self.runners.values() if r.name == left.backend), self.local)
        try:
            execution = runner.take_back(left.pid, log_path)
        except OSError as err:
            problem = f"could not be taken back after a server restart: {err}"
            append_log(log_path, f"fusionpipe: {problem}\n")
            return await self._fail(left.run_id, left.pipeline_id, left.node_id, None, problem)
        plan = plan_node(folder, self.settings.default_run_mode, self.runners, self.pool)
        started = left.attempt_started_at
        spent = (datetime.now(timezone.utc) - started).total_seconds() if started else 0.0
        code, why, _ = await self._await_attempt(
            left.run_id,
            left.node_id,
            execution,
            log_path,
            left.attempt,
            plan.scheduling.timeout,
            spent,
        )
        if why is not None:
            return await self._fail(left.run_id, left.pipeline_id, left.node_id, code, why)
        return await self._completed(
            left.run_id,
            left.pipeline_id,
            left.node_id,
            log_path,
            fingerprint=left.fingerprint,
            parts=left.parts,
            by_stat=parameters.read_parameters_or_empty(folder).get("fingerprint") == "stat",
        )

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
            and await self.cache.stash(
                node_id=row.id,
                node_folder=folder,
                fingerprint=row.fingerprint,
                run_id=row.made_by_run,
                outputs=row.outputs_recorded,
            )
        )
        if not kept and previous != Status.READY.value:
            await asyncio.to_thread(folders.clear_outputs, folder)

    # -- outcomes ----------------------------------------------------------------------------

    async def _succeed(
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
    ) -> bool:
        async with self.leases.fenced(run_id) as conn:
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
            if not recorded:  # a kill ended it first
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
            await events.announce(
                conn,
                "node.status",
                node_id=node_id,
                status="completed",
                stale_reasons=[],
                run_id=run_id,
                pipeline_id=pipeline_id,
            )
        return True

    async def _fail(
        self, run_id: str, pipeline_id: str, node_id: str, code: int | None, reason: str
    ) -> bool:
        async with self.leases.fenced(run_id) as conn:
            await node_store.finish_running(conn, node_id, Status.FAILED.value)
            await run_store.node_finished(
                conn, run_id, node_id, "failed", exit_code=code, reason=reason
            )
            await events.announce(
                conn,
                "node.status",
                node_id=node_id,
                status="failed",
                run_id=run_id,
                pipeline_id=pipeline_id,
            )
        return False

    async def _fail_claimed(
        self, run_id: str, pipeline_id: str, row: FingerprintRow, err: BaseException
    ) -> None:
        """An unexpected error after the claim: the node must not stay ``running``."""
        why = f"fusionpipe failed while running it: {type(err).__name__}: {err}"
        folder = folders.node_path(self.settings.data_path, row.folder)
        try:
            append_log(folder / "logs" / f"{run_id}.log", f"\nfusionpipe: {why}\n")
        except OSError:
            log.exception("fusionpipe: could not write the log of node %s", row.id)
        await self._fail(run_id, pipeline_id, row.id, None, why)

    async def _record(
        self, run_id: str, node_id: str, status: str, reason: str, exit_code: int | None = None
    ) -> None:
        async with self.leases.fenced(run_id) as conn:
            await run_store.node_finished(
                conn, run_id, node_id, status, exit_code=exit_code, reason=reason
            )

    # -- stopping ----------------------------------------------------------------------------

    async def kill_here(self, node_id: str, username: str) -> bool:
        entry = self.executions.get(node_id)
        if entry is None:
            return False
        self.killed[node_id] = username
        await entry[1].kill()
        return True

    async def leave(self) -> None:
        """The server is stopping: kill the nodes whose backend cannot outlive it, and stop
        scheduling; the rest run on, for the next server to take back."""
        self.leaving = True
        for node_id, (_, execution) in list(self.executions.items()):
            if not execution.outlives_server:
                await self.kill_here(node_id, "the server stopping")
        await asyncio.sleep(0.1)  # let those nodes record how they ended
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.leases.stop()

    async def cancel_here(self, run_id: str, username: str) -> None:
        self.cancelled.add(run_id)
        for node_id, (owner_run, _) in list(self.executions.items()):
            if owner_run == run_id:
                await self.kill_here(node_id, username)


@contextlib.contextmanager
def noted_if_taken_over(log_path: Path) -> Iterator[None]:
    """Say in the node's log when another server took its run over meanwhile."""
    try:
        yield
    except TakenOver as lost:
        append_log(log_path, f"\nfusionpipe: {lost}; this server no longer records it\n")
        raise


def append_log(path: Path, text: str) -> None:
    """Add a line of fusionpipe's own to a run's log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
