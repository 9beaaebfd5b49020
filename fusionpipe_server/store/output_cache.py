"""SQL for the output cache's entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import class_row


@dataclass
class CacheEntry:
    folder: str
    fingerprint: str
    node_id: str
    run_id: str
    outputs: str
    size: int
    created_at: datetime


_COLUMNS = "folder, fingerprint, node_id, run_id, outputs, size, created_at"


async def add(
    conn: AsyncConnection,
    *,
    folder: str,
    fingerprint: str,
    node_id: str,
    run_id: str,
    outputs: str,
    size: int,
) -> None:
    await conn.execute(
        "INSERT INTO output_cache (folder, fingerprint, node_id, run_id, outputs, size) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (folder, fingerprint, node_id, run_id, outputs, size),
    )


async def newest(conn: AsyncConnection, fingerprint: str) -> list[CacheEntry]:
    async with conn.cursor(row_factory=class_row(CacheEntry)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM output_cache WHERE fingerprint = %s ORDER BY created_at DESC",
            (fingerprint,),
        )
        return await cur.fetchall()


async def oldest_first(conn: AsyncConnection) -> list[CacheEntry]:
    """Every entry, oldest first, except those of nodes in a locked pipeline (or locked
    themselves): published results are never evicted."""
    async with conn.cursor(row_factory=class_row(CacheEntry)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM output_cache c WHERE NOT EXISTS ("
            "  SELECT 1 FROM nodes n WHERE n.id = c.node_id AND (n.locked OR EXISTS ("
            "    SELECT 1 FROM pipeline_nodes m JOIN pipelines p ON p.id = m.pipeline_id"
            "    WHERE m.node_id = n.id AND p.locked))) "
            "ORDER BY created_at, folder"
        )
        return await cur.fetchall()


async def total_size(conn: AsyncConnection) -> int:
    cur = await conn.execute("SELECT coalesce(sum(size), 0) FROM output_cache")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def remove(conn: AsyncConnection, folder: str) -> None:
    await conn.execute("DELETE FROM output_cache WHERE folder = %s", (folder,))
