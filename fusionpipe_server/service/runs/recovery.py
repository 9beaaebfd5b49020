"""Recovering at server start: runs and nodes left behind by a server that is gone.

A run whose server (on this host) stopped, was culled or crashed is taken back: its node
processes that live on, and its Slurm jobs (by job id), are watched again, those that ended
meanwhile are finished from the exit code their wrapper recorded, and its pending nodes are
scheduled, as if the server had never left. A node whose process is gone without an exit
code, or that no run was executing, is marked ``failed`` with the reason in its log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import AsyncConnection

from ...folders import node_folders as folders
from ...folders.logs import note
from ...models import Status
from ...runners.processes import is_alive
from ...store import edges as edge_store
from ...store import events, run_recovery
from ...store import items as item_store
from ...store import nodes as node_store
from ...store import runs as run_store
from ...store.database import Database
from ...store.run_recovery import LeftRunning
from ..common import Settings
from .engine import RunEngine
from .running import HOST

log = logging.getLogger(__name__)


@dataclass
class TakenBack:
    """What this server takes over: runs to go on with, and node processes to watch."""

    runs: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)  # run id ->
    # (pipeline id, who started it, pending nodes)
    executions: list[LeftRunning] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Batch jobs of what was marked failed (a mapped node's job array), to cancel: by backend.
    cancel: list[tuple[str, str]] = field(default_factory=list)


async def recover(
    db: Database,
    data_path: Path,
    executor: str,
    *,
    go_on: bool,
    backends: set[str],
    lease_seconds: float,
) -> TakenBack:
    """Take back the open runs of this host's servers that are gone, or whose lease lapsed
    (``backends``: the ones whose processes outlive a server; none unless ``go_on``), and fail
    what cannot be taken back. A lapsed server still alive is fenced off: its writes for the
    run are refused."""
    found = TakenBack()
    async with db.transaction() as conn:
        for open_run in await run_recovery.open_runs_of(conn, f"{HOST}:"):
            run_id, other = open_run.run_id, open_run.executor
            pid = int(other.rsplit(":", 1)[1])
            if other == executor or (is_alive(pid) and not open_run.lease_lapsed):
                continue
            if not go_on:
                await _fail_run(conn, data_path, run_id, found)
                continue
            if not await run_recovery.take_over(conn, run_id, other, executor, lease_seconds):
                continue
            left = await run_recovery.left_running(conn, run_id)
            for execution in left:
                # A mapped node's own row has no attempt (its items have theirs): its items
                # are not taken back one by one, and its job array is cancelled.
                if (
                    execution.backend in backends
                    and (execution.pid or execution.job_id)
                    and execution.attempt_started_at is not None
                    and execution.parts
                ):
                    found.executions.append(execution)
                else:
                    why = "its server stopped and its backend cannot be taken back"
                    await _fail_left_over(conn, data_path, execution.node_id, why, run_id)
                    found.failed.append(execution.node_id)
                    _cancel_job(execution, found)
            pending = await run_recovery.pending_nodes(conn, run_id)
            if left:
                found.runs[run_id] = (left[0].pipeline_id, left[0].requested_by, pending)
            else:
                run = await run_store.get_run(conn, run_id)
                assert run is not None
                found.runs[run_id] = (run.pipeline_id, run.requested_by, pending)
        for node_id in await run_recovery.stranded_nodes(conn):
            await _fail_left_over(conn, data_path, node_id, "no run was executing it", None)
            found.failed.append(node_id)
        if found.failed or found.runs:
            await events.announce(conn, "resync")
    return found


async def take_back(db: Database, settings: Settings, engine: RunEngine) -> list[str]:
    """Recover what a gone server left (see ``recover``) and go on with it in ``engine``: its
    live node processes watched again, its pending nodes scheduled. The nodes marked failed."""
    found = await recover(
        db,
        settings.data_path,
        engine.executor,
        go_on=settings.runs_outlive_server,
        # Ray tasks end with their server; the runner of local nodes may take its back, and
        # a batch scheduler's runner (detached) its jobs.
        backends={engine.runners.local.name}
        | {r.name for r in engine.runners.modes().values() if getattr(r, "detached", False)},
        lease_seconds=settings.run_lease_seconds,
    )
    for backend, job_id in found.cancel:
        cancel = getattr(engine.runners.by_backend(backend), "cancel", None)
        if cancel is not None:
            cancel(job_id)
    engine.adopt(found.executions)
    for run_id, (pipeline_id, requested_by, pending) in found.runs.items():
        planned = [*pending, *(e.node_id for e in found.executions if e.run_id == run_id)]
        async with db.transaction() as conn:
            pairs = await edge_store.pipeline_pairs(conn, pipeline_id)
        pairs = [(p, c) for p, c in pairs if p in planned and c in planned]
        engine.launch(run_id, pipeline_id, requested_by, planned, pairs)
    return found.failed


async def _fail_run(conn: AsyncConnection, data_path: Path, run_id: str, found: TakenBack) -> None:
    for execution in await run_recovery.left_running(conn, run_id):
        why = f"its process ({execution.pid}) is gone, stopped with its server"
        if is_alive(execution.pid):
            continue
        await _fail_left_over(conn, data_path, execution.node_id, why, run_id)
        found.failed.append(execution.node_id)
        _cancel_job(execution, found)
    await run_store.close_run(conn, run_id, "failed", "its server stopped")


def _cancel_job(execution: LeftRunning, found: TakenBack) -> None:
    """A job marked failed must not run on unwatched: its items would be run again beside it."""
    if execution.job_id and execution.backend:
        found.cancel.append((execution.backend, execution.job_id))


async def _fail_left_over(
    conn: AsyncConnection, data_path: Path, node_id: str, why: str, run_id: str | None
) -> None:
    await node_store.finish_running(conn, node_id, Status.FAILED.value)
    # A mapped node's items are not taken back one by one: those it left running failed
    # with it, for a failed-items run to retry.
    await item_store.end_running(conn, node_id, why)
    if run_id:
        await run_store.node_finished(conn, run_id, node_id, "failed", reason=why)
    row = await node_store.node_row(conn, node_id)
    if row is not None:
        folder = folders.node_path(data_path, row[1])
        logs = sorted((folder / "logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
        target = logs[-1] if logs else folder / "logs" / "recovered.log"
        await note(target, f"\nfusionpipe: marked failed at server start: {why}\n")
    log.warning("fusionpipe: node %s marked failed: %s", node_id, why)
