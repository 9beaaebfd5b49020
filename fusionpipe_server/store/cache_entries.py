"""SQL for the output cache's entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import class_row

from .locks import HOLDERS_JOIN, LOCKED


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


async def with_fingerprints(conn: AsyncConnection, fingerprints: Sequence[str]) -> set[str]:
    """Which of these fingerprints the cache has entries for (one query for many items)."""
    cur = await conn.execute(
        "SELECT DISTINCT fingerprint FROM output_cache WHERE fingerprint = ANY(%s)",
        (list(fingerprints),),
    )
    return {row[0] for row in await cur.fetchall()}


async def oldest_first(conn: AsyncConnection) -> list[CacheEntry]:
    """Every entry, oldest first, except those of nodes in a locked pipeline (or locked
    themselves): published results are never evicted."""
    async with conn.cursor(row_factory=class_row(CacheEntry)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM output_cache c WHERE NOT EXISTS ("
            f"  SELECT 1 FROM nodes n {HOLDERS_JOIN} WHERE n.id = c.node_id AND {LOCKED}) "
            "ORDER BY created_at, folder"
        )
        return await cur.fetchall()


async def total_size(conn: AsyncConnection) -> int:
    cur = await conn.execute("SELECT coalesce(sum(size), 0) FROM output_cache")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def remove(conn: AsyncConnection, folder: str) -> None:
    await conn.execute("DELETE FROM output_cache WHERE folder = %s", (folder,))


async def live_twin(conn: AsyncConnection, fingerprint: str, node_id: str) -> CacheEntry | None:
    """Another node, up to date, whose outputs were made from the same fingerprint (the node
    it was duplicated or branched from): its ``data/`` serves like a cache entry."""
    async with conn.cursor(row_factory=class_row(CacheEntry)) as cur:
        await cur.execute(
            "SELECT folder || '/data' AS folder, fingerprint, id AS node_id, "
            "made_by_run AS run_id, outputs_recorded AS outputs, 0::bigint AS size, "
            "updated_at AS created_at FROM nodes "
            "WHERE fingerprint = %s AND id <> %s AND status = 'completed' "
            "AND made_by_run IS NOT NULL AND outputs_seen = outputs_recorded "
            "ORDER BY updated_at DESC LIMIT 1",
            (fingerprint, node_id),
        )
        return await cur.fetchone()
