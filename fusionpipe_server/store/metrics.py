"""SQL for what node code records with ``fusionpipe.metrics()``: per item of a mapped node
(``node_items``, ``run_items``) and per run of any node (``run_nodes``), as the compare view
reads them."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from .items import SHOWN_STATUS


async def by_item(conn: AsyncConnection, node_id: str, limit: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT i.item_id AS id, {SHOWN_STATUS} AS status, i.run_id, "
            "  i.item_values AS values, i.metrics "
            "FROM node_items i JOIN nodes n ON n.id = i.node_id "
            "WHERE i.node_id = %s ORDER BY i.position LIMIT %s",
            (node_id, limit),
        )
        return await cur.fetchall()


async def by_run(conn: AsyncConnection, node_id: str, limit: int) -> list[dict[str, Any]]:
    """Each run of the node, newest first: the parameters it ran with, and its metrics (a
    mapped node's: each metric's mean over the items that recorded it)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT rn.run_id AS id, rn.run_id, rn.status, r.created_at, "
            "  coalesce(rn.fingerprint_parts -> 'parameter_values', '{}') AS values, "
            "  rn.metrics, "
            "  (SELECT jsonb_object_agg(m.key, m.mean) FROM ("
            "     SELECT e.key, avg((e.value #>> '{}')::float8) AS mean "
            "     FROM run_items ri, jsonb_each(ri.metrics) e "
            "     WHERE ri.run_id = rn.run_id AND ri.node_id = rn.node_id "
            "       AND jsonb_typeof(e.value) = 'number' GROUP BY e.key) m) AS item_means "
            "FROM run_nodes rn JOIN runs r ON r.id = rn.run_id "
            "WHERE rn.node_id = %s AND rn.status IN ('completed', 'failed') "
            "ORDER BY r.created_at DESC LIMIT %s",
            (node_id, limit),
        )
        found = await cur.fetchall()
    for row in found:
        means = row.pop("item_means") or {}
        row["metrics"] = {**means, **(row["metrics"] or {})}
        row["values"] = row["values"] or {}
        row.pop("created_at")
    return found


async def of_run(conn: AsyncConnection, run_id: str, node_id: str, metrics: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE run_nodes SET metrics = %s WHERE run_id = %s AND node_id = %s",
        (Jsonb(metrics), run_id, node_id),
    )
