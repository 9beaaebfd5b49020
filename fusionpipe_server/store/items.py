"""SQL for the items of mapped nodes (SPEC §7): their rows, counts, pages and what each run did
with each. Counts come from ``node_item_counts``, kept by triggers (migration 0007): nothing
here reads every item of a node except the run that executes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..models import ITEM_STATUSES

# The one rule of how a mapped node's staleness reaches its items: a node stale for its own
# code, parameters, environment or inputs (any reason but its item set) makes every completed
# item stale with it; a node stale only because items were added leaves the others completed.
# For the graph's counts and the items' pages alike; ``n`` is the node's row.
STALE_WITH_NODE = (
    "(n.status = 'staledata' AND EXISTS (SELECT 1 FROM jsonb_array_elements(n.stale_reasons) r "
    "WHERE r->>'kind' <> 'items'))"
)
# An item's status as shown, ``i`` its row.
SHOWN_STATUS = (
    f"CASE WHEN i.status = 'completed' AND {STALE_WITH_NODE} THEN 'staledata' ELSE i.status END"
)
# Of a node's running items, those still waiting in a batch queue (see migration 0010).
QUEUED_COUNT = (
    "(SELECT count(*) FROM node_items q WHERE q.node_id = n.id AND q.queued "
    "AND q.status = 'running')"
)
# A node's items counted by shown status, null for a node without items: what the graph holds.
COUNTS_JSON = f"""(SELECT json_build_object(
    'total', sum(c.n),
    'ready', coalesce(sum(c.n) FILTER (WHERE c.status = 'ready'), 0),
    'running', coalesce(sum(c.n) FILTER (WHERE c.status = 'running'), 0),
    'completed', coalesce(sum(c.n) FILTER (WHERE c.status = 'completed'
                                           AND NOT {STALE_WITH_NODE}), 0),
    'failed', coalesce(sum(c.n) FILTER (WHERE c.status = 'failed'), 0),
    'staledata', coalesce(sum(c.n) FILTER (WHERE c.status = 'staledata'
                                           OR (c.status = 'completed' AND {STALE_WITH_NODE})), 0),
    'queued', {QUEUED_COUNT})
  FROM node_item_counts c WHERE c.node_id = n.id HAVING count(*) > 0)"""


@dataclass
class ItemRow:
    """An item as a run needs it."""

    id: str
    values: dict[str, Any]
    status: str
    fingerprint: str | None
    outputs: str | None
    run_id: str | None


@dataclass
class Removed:
    """An item the declaration no longer gives, with what its last success left."""

    id: str
    fingerprint: str | None
    outputs: str | None
    run_id: str | None


async def sync(
    conn: AsyncConnection, node_id: str, items: Sequence[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, ItemRow], list[Removed]]:
    """Make the node's items those given (id, values), in this order: new ones are ``ready``,
    known ones keep their state, others are removed. Every item's row, and the removed.

    Compared here with what the node has, so that only what changed is written: adding one
    item to a thousand writes one row."""
    cur = await conn.execute(
        "SELECT item_id, item_values, status, fingerprint, outputs, run_id, position "
        "FROM node_items WHERE node_id = %s",
        (node_id,),
    )
    known, stored = {}, {}
    for *row, position in await cur.fetchall():
        known[row[0]] = ItemRow(*row)
        stored[row[0]] = position
    wanted = {item_id: position for position, (item_id, _) in enumerate(items)}
    gone = [item_id for item_id in known if item_id not in wanted]
    removed: list[Removed] = []
    if gone:
        cur = await conn.execute(
            "DELETE FROM node_items WHERE node_id = %s AND item_id = ANY(%s) "
            "RETURNING item_id, fingerprint, outputs, run_id",
            (node_id, gone),
        )
        removed = [Removed(*row) for row in await cur.fetchall()]
    changed = [
        (item_id, position, values)
        for position, (item_id, values) in enumerate(items)
        if item_id not in known or stored[item_id] != position or known[item_id].values != values
    ]
    if changed:
        await conn.execute(
            "INSERT INTO node_items (node_id, item_id, position, item_values) "
            "SELECT %s, i.id, i.pos, i.vals FROM unnest(%s::text[], %s::int[], %s::jsonb[]) "
            "  AS i(id, pos, vals) "
            "ON CONFLICT (node_id, item_id) DO UPDATE SET position = excluded.position, "
            "  item_values = excluded.item_values",
            (
                node_id,
                [item_id for item_id, _, _ in changed],
                [position for _, position, _ in changed],
                [Jsonb(values) for _, _, values in changed],
            ),
        )
    synced = {}
    for item_id, values in items:
        was = known.get(item_id)
        synced[item_id] = (
            ItemRow(item_id, values, "ready", None, None, None)
            if was is None
            else ItemRow(item_id, values, was.status, was.fingerprint, was.outputs, was.run_id)
        )
    return synced, removed


async def rows(conn: AsyncConnection, node_id: str) -> dict[str, ItemRow]:
    cur = await conn.execute(
        "SELECT item_id, item_values, status, fingerprint, outputs, run_id FROM node_items "
        "WHERE node_id = %s ORDER BY position",
        (node_id,),
    )
    return {row[0]: ItemRow(*row) for row in await cur.fetchall()}


async def forget(conn: AsyncConnection, node_ids: Sequence[str]) -> None:
    """The nodes' items are gone (outputs cleared, or no longer mapped): new ones start
    afresh."""
    await conn.execute("DELETE FROM node_items WHERE node_id = ANY(%s)", (list(node_ids),))


async def manifest(conn: AsyncConnection, node_id: str) -> list[dict[str, Any]]:
    """Every item with its values, status and metrics, for ``items.json``."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT item_id AS id, item_values AS values, status, metrics FROM node_items "
            "WHERE node_id = %s ORDER BY position",
            (node_id,),
        )
        return await cur.fetchall()


async def counts(conn: AsyncConnection, node_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Items by status of each node that has any: ``{total, ready, running, ...}``."""
    cur = await conn.execute(
        "SELECT node_id, status, n FROM node_item_counts WHERE node_id = ANY(%s)",
        (list(node_ids),),
    )
    found: dict[str, dict[str, int]] = {}
    for node_id, status, n in await cur.fetchall():
        counted = found.setdefault(
            node_id, {"total": 0, **{s: 0 for s in ITEM_STATUSES}, "queued": 0}
        )
        counted[status] = n
        counted["total"] += n
    if found:
        cur = await conn.execute(
            "SELECT node_id, count(*) FROM node_items WHERE node_id = ANY(%s) AND queued "
            "AND status = 'running' GROUP BY node_id",
            (list(found),),
        )
        for node_id, n in await cur.fetchall():
            found[node_id]["queued"] = n
    return found


async def page(
    conn: AsyncConnection,
    node_id: str,
    *,
    status: str | None,
    text: str,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of items in declaration order, filtered by shown status and by a part of the
    id, and how many match (from the counts when only the status filters)."""
    where = "i.node_id = %s"
    args: list[Any] = [node_id]
    if status in ("completed", "staledata"):
        where += f" AND ({SHOWN_STATUS}) = %s"
        args.append(status)
    elif status is not None:
        where += " AND i.status = %s"  # the index's own order: no scan of the others
        args.append(status)
    if text:
        where += " AND strpos(lower(i.item_id), lower(%s)) > 0"
        args.append(text)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT i.item_id AS id, i.item_values AS values, {SHOWN_STATUS} AS status, "
            f"  CASE WHEN i.status = 'completed' AND {STALE_WITH_NODE} THEN n.stale_reasons "
            "    ELSE i.stale_reasons END AS stale_reasons, "
            "  i.run_id, i.exit_code, i.attempts, i.metrics, i.reason, "
            "  extract(epoch FROM i.finished_at - i.started_at)::float8 AS duration "
            f"FROM node_items i JOIN nodes n ON n.id = i.node_id WHERE {where} "
            "ORDER BY i.position OFFSET %s LIMIT %s",
            (*args, offset, limit),
        )
        found = await cur.fetchall()
    if text:
        cur2 = await conn.execute(
            f"SELECT count(*) FROM node_items i JOIN nodes n ON n.id = i.node_id WHERE {where}",
            args,
        )
        return found, (await cur2.fetchone() or (0,))[0]
    cur3 = await conn.execute(f"SELECT {COUNTS_JSON} FROM nodes n WHERE n.id = %s", (node_id,))
    counted = (await cur3.fetchone() or (None,))[0] or {"total": 0}
    return found, int(counted.get(status, 0) if status else counted["total"])


async def last_run(conn: AsyncConnection, node_id: str, item_id: str) -> str | bool | None:
    """The run that last executed the item; False when the node has no such item."""
    cur = await conn.execute(
        "SELECT run_id FROM node_items WHERE node_id = %s AND item_id = %s", (node_id, item_id)
    )
    row = await cur.fetchone()
    return False if row is None else row[0]


async def planned(conn: AsyncConnection, run_id: str, node_id: str, item_ids: list[str]) -> None:
    """The items this run is to execute, ``pending``: what its progress counts."""
    await conn.execute(
        "INSERT INTO run_items (run_id, node_id, item_id, status) "
        "SELECT %s, %s, unnest(%s::text[]), 'pending' ON CONFLICT DO NOTHING",
        (run_id, node_id, item_ids),
    )


async def unstarted(conn: AsyncConnection, run_id: str, node_id: str, reason: str) -> None:
    """Items the run planned and never started (a kill, a cancel) are ``skipped``."""
    await conn.execute(
        "UPDATE run_items SET status = 'skipped', reason = %s "
        "WHERE run_id = %s AND node_id = %s AND status = 'pending'",
        (reason, run_id, node_id),
    )


async def run_progress(conn: AsyncConnection, run_id: str) -> dict[str, dict[str, int]]:
    """Of each mapped node of a run: its items to execute, done, failed and running now."""
    cur = await conn.execute(
        "SELECT node_id, count(*), count(*) FILTER (WHERE status IN ('completed', 'failed')), "
        "  count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'running') "
        "FROM run_items WHERE run_id = %s GROUP BY node_id",
        (run_id,),
    )
    return {
        node_id: {"total": total, "done": done, "failed": failed, "running": running}
        for node_id, total, done, failed, running in await cur.fetchall()
    }


async def started(conn: AsyncConnection, run_id: str, node_id: str, item_id: str) -> None:
    await conn.execute(
        "UPDATE node_items SET status = 'running', run_id = %s, started_at = now(), "
        "finished_at = NULL, exit_code = NULL, reason = '', attempts = 1, stale_reasons = '[]' "
        "WHERE node_id = %s AND item_id = %s",
        (run_id, node_id, item_id),
    )
    await conn.execute(
        "INSERT INTO run_items (run_id, node_id, item_id, status, attempts, started_at) "
        "VALUES (%s, %s, %s, 'running', 1, now()) ON CONFLICT (run_id, node_id, item_id) "
        "DO UPDATE SET status = 'running', attempts = 1, started_at = now()",
        (run_id, node_id, item_id),
    )


async def attempted(
    conn: AsyncConnection, run_id: str, node_id: str, item_id: str, attempt: int
) -> None:
    await conn.execute(
        "UPDATE node_items SET attempts = %s WHERE node_id = %s AND item_id = %s",
        (attempt, node_id, item_id),
    )
    await conn.execute(
        "UPDATE run_items SET attempts = %s WHERE run_id = %s AND node_id = %s AND item_id = %s",
        (attempt, run_id, node_id, item_id),
    )


async def finished(
    conn: AsyncConnection,
    run_id: str,
    node_id: str,
    item_id: str,
    *,
    status: str,
    exit_code: int | None,
    reason: str,
    metrics: dict[str, Any],
    fingerprint: str | None = None,
    outputs: str | None = None,
) -> None:
    """How the item ended in this run; a success records what it was made from and left."""
    success = status == "completed"
    await conn.execute(
        "UPDATE node_items SET status = %s, exit_code = %s, reason = %s, metrics = %s, "
        "finished_at = now(), queued = false, "
        "fingerprint = CASE WHEN %s THEN %s ELSE fingerprint END, "
        "outputs = CASE WHEN %s THEN %s ELSE outputs END, run_id = %s "
        "WHERE node_id = %s AND item_id = %s",
        (
            status,
            exit_code,
            reason,
            Jsonb(metrics),
            success,
            fingerprint,
            success,
            outputs,
            run_id,
            node_id,
            item_id,
        ),
    )
    await conn.execute(
        "INSERT INTO run_items (run_id, node_id, item_id, status, exit_code, reason, metrics, "
        "  finished_at) VALUES (%s, %s, %s, %s, %s, %s, %s, now()) "
        "ON CONFLICT (run_id, node_id, item_id) DO UPDATE SET status = excluded.status, "
        "  exit_code = excluded.exit_code, reason = excluded.reason, "
        "  metrics = excluded.metrics, finished_at = now()",
        (run_id, node_id, item_id, status, exit_code, reason, Jsonb(metrics)),
    )


async def end_running(conn: AsyncConnection, node_id: str, reason: str) -> None:
    """Items a node's execution left ``running`` (a crash, a take-over) end ``failed``; none
    stays marked queued, not even one marked before it was started (a crash in between)."""
    await conn.execute(
        "UPDATE node_items SET status = CASE WHEN status = 'running' THEN 'failed' "
        "  ELSE status END, "
        "reason = CASE WHEN status = 'running' THEN %s ELSE reason END, "
        "finished_at = CASE WHEN status = 'running' THEN now() ELSE finished_at END, "
        "queued = false WHERE node_id = %s AND (status = 'running' OR queued)",
        (reason, node_id),
    )


async def failed_ids(conn: AsyncConnection, node_id: str) -> list[str]:
    cur = await conn.execute(
        "SELECT item_id FROM node_items WHERE node_id = %s AND status = 'failed' ORDER BY position",
        (node_id,),
    )
    return [row[0] for row in await cur.fetchall()]


async def existing(conn: AsyncConnection, node_id: str, item_ids: Sequence[str]) -> set[str]:
    cur = await conn.execute(
        "SELECT item_id FROM node_items WHERE node_id = %s AND item_id = ANY(%s)",
        (node_id, list(item_ids)),
    )
    return {row[0] for row in await cur.fetchall()}


async def set_queued(
    conn: AsyncConnection, node_id: str, item_ids: list[str], queued: bool
) -> None:
    """Items of a job array that wait in the batch queue (``queued``) or have left it; counted
    as queued while ``running`` (the mark may come first, and an item's end clears it)."""
    await conn.execute(
        "UPDATE node_items SET queued = %s WHERE node_id = %s AND item_id = ANY(%s)",
        (queued, node_id, item_ids),
    )
