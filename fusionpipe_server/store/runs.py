"""SQL for runs, the per-node record of each run, and the atomic claim of a node."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ..models import KILLED_BY, NodeAttempt, Run, RunNode
from .locks import HOLDERS_JOIN, LOCKED, REFERENCED

_RUN = "id, pipeline_id, requested_by, scope, status, created_at, started_at, finished_at"
_NODE = (
    "node_id, status, backend, host, pid, started_at, finished_at, exit_code, reason, "
    "fingerprint, fingerprint_parts, inputs_from, restored_from, attempt, attempts, job_id"
)


async def insert_run(
    conn: AsyncConnection,
    run_id: str,
    pipeline_id: str,
    requested_by: str,
    scope: str,
    executor: str,
    planned: Sequence[str],
    skipped: dict[str, str],
    lease_seconds: float,
) -> None:
    """A queued run with its planned nodes ``pending`` and the others ``skipped`` with why."""
    await conn.execute(
        "INSERT INTO runs (id, pipeline_id, requested_by, scope, executor, lease_until) "
        "VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))",
        (run_id, pipeline_id, requested_by, scope, executor, lease_seconds),
    )
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO run_nodes (run_id, node_id, status, reason) VALUES (%s, %s, %s, %s)",
            [(run_id, node_id, "pending", "") for node_id in planned]
            + [(run_id, node_id, "skipped", why) for node_id, why in skipped.items()],
        )


async def get_run(conn: AsyncConnection, run_id: str) -> Run | None:
    async with conn.cursor(row_factory=class_row(Run)) as cur:
        await cur.execute(f"SELECT {_RUN} FROM runs WHERE id = %s", (run_id,))
        run = await cur.fetchone()
    if run is not None:
        async with conn.cursor(row_factory=class_row(RunNode)) as cur:
            await cur.execute(
                f"SELECT {_NODE} FROM run_nodes WHERE run_id = %s "
                f"ORDER BY started_at NULLS LAST, node_id",
                (run_id,),
            )
            run.nodes = await cur.fetchall()
        async with conn.cursor(row_factory=class_row(_AttemptRow)) as cur:
            await cur.execute(
                "SELECT node_id, attempt, backend, started_at, finished_at, exit_code, reason "
                "FROM run_node_attempts WHERE run_id = %s ORDER BY node_id, attempt",
                (run_id,),
            )
            by_node = {node.node_id: node for node in run.nodes}
            for row in await cur.fetchall():
                by_node[row.node_id].tries.append(row.attempt_of_node())
    return run


@dataclass
class _AttemptRow:
    node_id: str
    attempt: int
    backend: str | None
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    reason: str

    def attempt_of_node(self) -> NodeAttempt:
        return NodeAttempt(
            self.attempt,
            self.backend,
            self.started_at,
            self.finished_at,
            self.exit_code,
            self.reason,
        )


async def list_runs(
    conn: AsyncConnection,
    *,
    pipeline_id: str | None = None,
    node_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    status: str | None = None,
) -> list[Run]:
    """Newest first, each with the nodes it touched (two queries in all); ``offset`` and
    ``status`` page through and filter a long history."""
    condition, values = _runs_of(pipeline_id, node_id, status)
    async with conn.cursor(row_factory=class_row(Run)) as cur:
        await cur.execute(
            f"SELECT {_RUN} FROM runs WHERE {condition} "
            f"ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
            (*values, limit, offset),
        )
        runs = await cur.fetchall()
    by_id = {run.id: run for run in runs}
    cur2 = await conn.execute(
        f"SELECT run_id, {_NODE} FROM run_nodes WHERE run_id = ANY(%s) "
        f"ORDER BY started_at NULLS LAST, node_id",
        (list(by_id),),
    )
    for row in await cur2.fetchall():
        by_id[row[0]].nodes.append(RunNode(*row[1:]))
    return runs


async def count_runs(
    conn: AsyncConnection,
    *,
    pipeline_id: str | None = None,
    node_id: str | None = None,
    status: str | None = None,
) -> int:
    """How many runs ``list_runs`` pages through with the same filters."""
    condition, values = _runs_of(pipeline_id, node_id, status)
    cur = await conn.execute(f"SELECT count(*) FROM runs WHERE {condition}", values)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


def _runs_of(
    pipeline_id: str | None, node_id: str | None, status: str | None
) -> tuple[str, tuple[str | None, ...]]:
    condition, values = (
        ("pipeline_id = %s", (pipeline_id,))
        if pipeline_id is not None
        else ("id IN (SELECT run_id FROM run_nodes WHERE node_id = %s)", (node_id,))
    )
    if status is not None:
        return f"{condition} AND status = %s", (*values, status)
    return condition, values


async def previous_durations(
    conn: AsyncConnection, run_id: str, node_ids: Sequence[str], samples: int = 5
) -> dict[str, float]:
    """Seconds each node took on average in its last ``samples`` completed runs other than
    ``run_id``; nodes that never completed are absent."""
    cur = await conn.execute(
        "SELECT node_id, avg(seconds) FROM ("
        "  SELECT node_id, extract(epoch FROM finished_at - started_at) AS seconds,"
        "         row_number() OVER (PARTITION BY node_id ORDER BY finished_at DESC) AS recent"
        "  FROM run_nodes WHERE node_id = ANY(%s) AND run_id <> %s AND status = 'completed'"
        "  AND started_at IS NOT NULL AND finished_at IS NOT NULL"
        ") AS done WHERE recent <= %s GROUP BY node_id",
        (list(node_ids), run_id, samples),
    )
    return {row[0]: float(row[1]) for row in await cur.fetchall()}


async def set_run_status(conn: AsyncConnection, run_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE runs SET status = %s, "
        "started_at = CASE WHEN %s = 'running' THEN now() ELSE started_at END, "
        "finished_at = CASE WHEN %s IN ('completed', 'failed', 'cancelled') THEN now() "
        "ELSE finished_at END WHERE id = %s",
        (status, status, status, run_id),
    )


async def claim_node(
    conn: AsyncConnection, node_id: str, run_id: str, fingerprint: str
) -> str | SharedResult | None:
    """Mark a node ``running`` for ``run_id`` if, and only if, it may start now; returns its
    previous status, or the result of another run's execution to take instead (see
    ``shared_result``), or None when it may not start (it runs, is locked or shared).

    The node's row is locked first, so two runs (of this server or another) can never both
    start it, and one that finished it a moment ago is seen. A node that is locked (by itself
    or a pipeline holding it) or shared never starts. The holding pipelines' rows are read FOR
    SHARE first, so a lock taken at the same moment waits for the claim (and is then refused,
    as the node runs) or the claim sees the lock.
    """
    await conn.execute(
        "SELECT 1 FROM pipeline_nodes m JOIN pipelines p ON p.id = m.pipeline_id "
        "WHERE m.node_id = %s FOR SHARE OF p",
        (node_id,),
    )
    cur = await conn.execute("SELECT status FROM nodes WHERE id = %s FOR UPDATE", (node_id,))
    found = await cur.fetchone()
    if found is None or found[0] == "running":
        return None
    taken = await shared_result(conn, run_id, node_id, fingerprint)
    if taken is not None:
        return taken
    cur = await conn.execute(
        "UPDATE nodes SET status = 'running', updated_at = now() WHERE id = %s "
        f"AND NOT EXISTS (SELECT 1 FROM nodes n {HOLDERS_JOIN} "
        f"WHERE n.id = %s AND ({LOCKED} OR {REFERENCED}))",
        (node_id, node_id),
    )
    return found[0] if cur.rowcount == 1 else None


async def node_started(
    conn: AsyncConnection,
    run_id: str,
    node_id: str,
    backend: str,
    host: str,
    pid: int | None,
    *,
    attempt: int = 1,
    attempts: int = 1,
    job_id: str | None = None,
) -> None:
    """An attempt's process started (as batch job ``job_id``, if any). The node's
    ``started_at`` is its first attempt's: its duration in the run counts every attempt and the
    waits between them."""
    await conn.execute(
        "UPDATE run_nodes SET status = 'running', backend = %s, host = %s, pid = %s, "
        "job_id = %s, attempt = %s, attempts = %s, "
        "started_at = CASE WHEN %s = 1 THEN now() ELSE coalesce(started_at, now()) END "
        "WHERE run_id = %s AND node_id = %s",
        (backend, host, pid, job_id, attempt, attempts, attempt, run_id, node_id),
    )
    await conn.execute(
        "INSERT INTO run_node_attempts (run_id, node_id, attempt, backend) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (run_id, node_id, attempt) DO UPDATE "
        "SET backend = excluded.backend, started_at = now()",
        (run_id, node_id, attempt, backend),
    )


async def job_submitted(
    conn: AsyncConnection, run_id: str, node_id: str, backend: str, job_id: str
) -> None:
    """A mapped node's items were submitted as one batch job (a Slurm job array). The node is
    recorded running in the run from then on: a server that takes the run back finds its job
    there (to cancel it: its items are not taken back one by one), rather than a pending node
    to start again beside it."""
    await conn.execute(
        "UPDATE run_nodes SET status = 'running', backend = %s, job_id = %s "
        "WHERE run_id = %s AND node_id = %s",
        (backend, job_id, run_id, node_id),
    )


async def attempt_finished(
    conn: AsyncConnection,
    run_id: str,
    node_id: str,
    attempt: int,
    *,
    exit_code: int | None,
    reason: str,
) -> None:
    await conn.execute(
        "UPDATE run_node_attempts SET finished_at = now(), exit_code = %s, reason = %s "
        "WHERE run_id = %s AND node_id = %s AND attempt = %s",
        (exit_code, reason, run_id, node_id, attempt),
    )


async def node_finished(
    conn: AsyncConnection,
    run_id: str,
    node_id: str,
    status: str,
    *,
    exit_code: int | None = None,
    reason: str = "",
    outputs_digest: str | None = None,
    restored_from: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE run_nodes SET status = %s, exit_code = %s, reason = %s, "
        "outputs_digest = %s, restored_from = %s, "
        "finished_at = CASE WHEN started_at IS NULL THEN NULL ELSE now() END "
        "WHERE run_id = %s AND node_id = %s",
        (status, exit_code, reason, outputs_digest, restored_from, run_id, node_id),
    )


async def node_claimed(
    conn: AsyncConnection,
    run_id: str,
    node_id: str,
    *,
    fingerprint: str,
    parts: dict[str, Any],
    inputs_from: dict[str, Any],
) -> None:
    """What the execution starts from: its fingerprint, the parts, the parent runs it reads."""
    await conn.execute(
        "UPDATE run_nodes SET fingerprint = %s, fingerprint_parts = %s, inputs_from = %s, "
        "started_at = now() WHERE run_id = %s AND node_id = %s",
        (fingerprint, Jsonb(parts), Jsonb(inputs_from), run_id, node_id),
    )


@dataclass(frozen=True)
class SharedResult:
    """Another run's execution of a node, whose result a run takes instead of repeating it."""

    run_id: str
    status: str
    exit_code: int | None
    reason: str


async def shared_result(
    conn: AsyncConnection, run_id: str, node_id: str, fingerprint: str
) -> SharedResult | None:
    """The execution of ``node_id`` with this fingerprint that another run finished since
    ``run_id`` was asked for: what ``run_id`` would execute, made after it was wanted, so it
    takes that result (completed, or failed with its reason) instead of executing the node
    again. A kill is not a result: it says what someone wanted of that run, not of the node.

    Under the node's row lock (as ``claim_node`` calls it), an execution ending at the same
    moment is either seen here or still ``running`` on the node."""
    cur = await conn.execute(
        "SELECT rn.run_id, rn.status, rn.exit_code, rn.reason "
        "FROM run_nodes rn JOIN runs mine ON mine.id = %s "
        "WHERE rn.node_id = %s AND rn.run_id <> mine.id AND rn.fingerprint = %s "
        "AND rn.status IN ('completed', 'failed') AND rn.finished_at >= mine.created_at "
        "AND NOT starts_with(rn.reason, %s) "
        "ORDER BY rn.finished_at DESC LIMIT 1",
        (run_id, node_id, fingerprint, KILLED_BY),
    )
    row = await cur.fetchone()
    return SharedResult(*row) if row else None


async def close_run(conn: AsyncConnection, run_id: str, status: str, reason: str) -> None:
    """End a run: its pending nodes are cancelled with ``reason``."""
    await conn.execute(
        "UPDATE run_nodes SET status = 'cancelled', reason = %s "
        "WHERE run_id = %s AND status = 'pending'",
        (reason, run_id),
    )
    await set_run_status(conn, run_id, status)


async def made_by(conn: AsyncConnection, node_id: str) -> dict[str, Any] | None:
    """The run that made a node's current outputs: when, by whom, and whether they were
    restored from the output cache rather than computed."""
    cur = await conn.execute(
        "SELECT n.made_by_run, n.restored_from, r.requested_by, "
        "coalesce(rn.finished_at, r.finished_at) "
        "FROM nodes n JOIN runs r ON r.id = n.made_by_run "
        "LEFT JOIN run_nodes rn ON rn.run_id = r.id AND rn.node_id = n.id "
        "WHERE n.id = %s",
        (node_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return {
        "run_id": row[0],
        "restored_from": row[1],
        "requested_by": row[2],
        "finished_at": row[3].isoformat() if row[3] else None,
    }
