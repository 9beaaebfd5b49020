"""SQL for what outlives a server: the leases on its runs, and what a server that is gone left
running, for the next one to take back or fail (see service/runs/recovery.py and leases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from ..models import ACTIVE_RUN_STATUSES


@dataclass
class LeftRunning:
    """A node execution recorded as running on this host, with what it started from."""

    run_id: str
    pipeline_id: str
    requested_by: str
    node_id: str
    pid: int | None
    backend: str | None
    fingerprint: str | None
    parts: dict[str, Any] | None
    folder: str
    kind: str
    attempt: int
    attempts: int
    # When its attempt started: the time limit counts from there.
    attempt_started_at: datetime | None
    # Its batch job (Slurm), taken back by that id.
    job_id: str | None = None


async def left_running(conn: AsyncConnection, run_id: str) -> list[LeftRunning]:
    """The executions of a run that were running when its server went away."""
    async with conn.cursor(row_factory=class_row(LeftRunning)) as cur:
        await cur.execute(
            "SELECT rn.run_id, r.pipeline_id, r.requested_by, rn.node_id, rn.pid, rn.backend, "
            "rn.fingerprint, rn.fingerprint_parts AS parts, n.folder, n.kind, rn.attempt, "
            "rn.attempts, a.started_at AS attempt_started_at, rn.job_id "
            "FROM run_nodes rn JOIN runs r ON r.id = rn.run_id JOIN nodes n ON n.id = rn.node_id "
            "LEFT JOIN run_node_attempts a ON a.run_id = rn.run_id AND a.node_id = rn.node_id "
            "AND a.attempt = rn.attempt "
            "WHERE rn.run_id = %s AND rn.status = 'running'",
            (run_id,),
        )
        return await cur.fetchall()


async def pending_nodes(conn: AsyncConnection, run_id: str) -> list[str]:
    cur = await conn.execute(
        "SELECT node_id FROM run_nodes WHERE run_id = %s AND status = 'pending'", (run_id,)
    )
    return [row[0] for row in await cur.fetchall()]


async def take_over(
    conn: AsyncConnection, run_id: str, old: str, new: str, lease_seconds: float
) -> bool:
    """Make ``new`` the server executing a run, unless another server took it first."""
    cur = await conn.execute(
        "UPDATE runs SET executor = %s, lease_until = now() + make_interval(secs => %s) "
        "WHERE id = %s AND executor = %s",
        (new, lease_seconds, run_id, old),
    )
    return cur.rowcount == 1


@dataclass(frozen=True)
class OpenRun:
    run_id: str
    executor: str
    lease_lapsed: bool


async def open_runs_of(conn: AsyncConnection, executor_prefix: str) -> list[OpenRun]:
    """Unfinished runs scheduled by servers on this host, and whether their lease lapsed."""
    cur = await conn.execute(
        "SELECT id, executor, coalesce(lease_until < now(), false) FROM runs "
        "WHERE status = ANY(%s) AND executor LIKE %s",
        (list(ACTIVE_RUN_STATUSES), executor_prefix + "%"),
    )
    return [OpenRun(row[0], row[1], row[2]) for row in await cur.fetchall()]


async def renew_leases(
    conn: AsyncConnection, executor: str, run_ids: Sequence[str], lease_seconds: float
) -> set[str]:
    """Extend the leases of these runs that ``executor`` still holds; the ones it holds."""
    cur = await conn.execute(
        "UPDATE runs SET lease_until = now() + make_interval(secs => %s) "
        "WHERE id = ANY(%s) AND executor = %s RETURNING id",
        (lease_seconds, list(run_ids), executor),
    )
    return {row[0] for row in await cur.fetchall()}


async def holds(conn: AsyncConnection, run_id: str, executor: str) -> str | None:
    """The fence: None while ``executor`` holds the run (the row stays share-locked to the end
    of the transaction, so no take-over slips in before its writes), else who holds it now."""
    cur = await conn.execute("SELECT executor FROM runs WHERE id = %s FOR SHARE", (run_id,))
    row = await cur.fetchone()
    if row is None or row[0] == executor:
        return None
    return str(row[0])


async def stranded_nodes(conn: AsyncConnection) -> list[str]:
    """Nodes marked running that no run records as running: left by a crash."""
    cur = await conn.execute(
        "SELECT id FROM nodes n WHERE status = 'running' AND NOT EXISTS "
        "(SELECT 1 FROM run_nodes r WHERE r.node_id = n.id AND r.status = 'running')"
    )
    return [row[0] for row in await cur.fetchall()]
