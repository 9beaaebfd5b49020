"""SQL for provenance: which run made a node's outputs, and what that execution started from."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection


async def current_output(conn: AsyncConnection, node_id: str) -> str | None:
    """The run that made the node's outputs ("" when none did), or None for no such node."""
    cur = await conn.execute("SELECT made_by_run FROM nodes WHERE id = %s", (node_id,))
    row = await cur.fetchone()
    return None if row is None else (row[0] or "")


async def step(conn: AsyncConnection, node_id: str, run_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT rn.node_id, n.tag, rn.run_id, r.requested_by, rn.started_at, rn.finished_at, "
        "rn.fingerprint, rn.fingerprint_parts, rn.inputs_from, rn.outputs_digest, "
        "rn.restored_from "
        "FROM run_nodes rn JOIN runs r ON r.id = rn.run_id "
        "LEFT JOIN nodes n ON n.id = rn.node_id "
        "WHERE rn.run_id = %s AND rn.node_id = %s",
        (run_id, node_id),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    parts = row[7] or {}
    return {
        "node_id": row[0],
        "tag": row[1],
        "run_id": row[2],
        "requested_by": row[3],
        "started_at": row[4].isoformat() if row[4] else None,
        "finished_at": row[5].isoformat() if row[5] else None,
        "fingerprint": row[6],
        "kind": parts.get("kind"),
        "code": parts.get("code"),
        "parameters": parts.get("parameter_values"),
        "environment": parts.get("environment"),
        "inputs": row[8] or {},
        "outputs_digest": row[9],
        "restored_from": row[10],
    }
