"""SQL for the trash: the rows a deletion takes away, kept as JSON by table, and put back.

A deletion really deletes its rows (so every listing, graph, run and staleness check simply no
longer sees them) after copying them here, with every row that goes with them by cascade: runs
and their history, edges, memberships, groups, lineage, the stat cache. Rows are copied with
``to_jsonb`` and put back with ``jsonb_populate_recordset``, so every column comes back as it
was, including columns later migrations add.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ..models import TrashItem

# What a deletion takes, by table, in the order a restore puts it back (a row's references
# first). Parameters: projects, pipelines, nodes (whose rows go), the memberships taken out of
# a pipeline that stays (pairs), and edges removed on their own.
_TAKEN = {
    "projects": "id = ANY(%(projects)s)",
    "pipelines": "id = ANY(%(pipelines)s)",
    "pipeline_lineage": "child_id = ANY(%(pipelines)s) OR parent_id = ANY(%(pipelines)s)",
    "nodes": "id = ANY(%(nodes)s)",
    "node_groups": "pipeline_id = ANY(%(pipelines)s)",
    "pipeline_nodes": (
        "pipeline_id = ANY(%(pipelines)s) OR node_id = ANY(%(nodes)s) OR (pipeline_id, node_id) "
        "IN (SELECT * FROM unnest(%(member_pipelines)s::text[], %(member_nodes)s::text[]))"
    ),
    "edges": "parent_id = ANY(%(nodes)s) OR child_id = ANY(%(nodes)s) OR id = ANY(%(edges)s)",
    "node_files": "node_id = ANY(%(nodes)s)",
    "runs": "pipeline_id = ANY(%(pipelines)s)",
    "run_nodes": (
        "node_id = ANY(%(nodes)s) OR run_id IN "
        "(SELECT r.id FROM runs r WHERE r.pipeline_id = ANY(%(pipelines)s))"
    ),
    "run_node_attempts": (
        "node_id = ANY(%(nodes)s) OR run_id IN "
        "(SELECT r.id FROM runs r WHERE r.pipeline_id = ANY(%(pipelines)s))"
    ),
}
TABLES = tuple(_TAKEN)

# History that refers to rows outside the item (a run of another pipeline, a lineage parent)
# comes back only where those rows still exist; the rest is the item's own and must fit.
_WHERE_STILL_THERE = {
    "pipeline_lineage": (
        "EXISTS (SELECT 1 FROM pipelines p WHERE p.id = r.child_id) "
        "AND EXISTS (SELECT 1 FROM pipelines p WHERE p.id = r.parent_id)"
    ),
    "run_nodes": (
        "EXISTS (SELECT 1 FROM runs x WHERE x.id = r.run_id) "
        "AND EXISTS (SELECT 1 FROM nodes n WHERE n.id = r.node_id)"
    ),
    "run_node_attempts": (
        "EXISTS (SELECT 1 FROM run_nodes x WHERE x.run_id = r.run_id AND x.node_id = r.node_id)"
    ),
}

_ITEM_COLUMNS = (
    "id, kind, item_id, tag, owner, deleted_by, deleted_at, expires_at, pipeline_id, "
    "project_id, jsonb_build_object('pipelines', jsonb_array_length(rows->'pipelines'), "
    "'nodes', jsonb_array_length(rows->'nodes')) AS counts"
)


async def snapshot(
    conn: AsyncConnection,
    *,
    projects: Sequence[str] = (),
    pipelines: Sequence[str] = (),
    nodes: Sequence[str] = (),
    memberships: Sequence[tuple[str, str]] = (),
    edges: Sequence[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Every row the deletion will take, by table, in one query."""
    parts = ", ".join(
        # The alias is no column name: pipeline_nodes has a column x.
        f"'{table}', (SELECT coalesce(jsonb_agg(to_jsonb(taken)), '[]'::jsonb) "
        f"FROM {table} taken WHERE {where})"
        for table, where in _TAKEN.items()
    )
    cur = await conn.execute(
        f"SELECT jsonb_build_object({parts})",
        {
            "projects": list(projects),
            "pipelines": list(pipelines),
            "nodes": list(nodes),
            "member_pipelines": [pipeline for pipeline, _ in memberships],
            "member_nodes": [node for _, node in memberships],
            "edges": list(edges),
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(row[0])


async def insert_item(
    conn: AsyncConnection,
    *,
    item: dict[str, str | None],
    rows: dict[str, list[dict[str, Any]]],
    folders: list[dict[str, str]],
    keep_seconds: float,
) -> TrashItem:
    """A new item (``item``: id, kind, item_id, tag, owner, deleted_by, pipeline_id,
    project_id), deleted now and kept ``keep_seconds``."""
    async with conn.cursor(row_factory=class_row(TrashItem)) as cur:
        await cur.execute(
            "INSERT INTO trash (id, kind, item_id, tag, owner, deleted_by, pipeline_id, "
            "project_id, rows, folders, expires_at) VALUES (%(id)s, %(kind)s, %(item_id)s, "
            "%(tag)s, %(owner)s, %(deleted_by)s, %(pipeline_id)s, %(project_id)s, %(rows)s, "
            "%(folders)s, now() + make_interval(secs => %(keep)s)) "
            f"RETURNING {_ITEM_COLUMNS}",
            {**item, "rows": Jsonb(rows), "folders": Jsonb(folders), "keep": keep_seconds},
        )
        created = await cur.fetchone()
    assert created is not None
    return created


async def list_items(
    conn: AsyncConnection, *, older_than: datetime | None = None
) -> list[TrashItem]:
    """Every item, newest first (``older_than``: deleted before that time only)."""
    async with conn.cursor(row_factory=class_row(TrashItem)) as cur:
        await cur.execute(
            f"SELECT {_ITEM_COLUMNS} FROM trash "
            "WHERE %(before)s::timestamptz IS NULL OR deleted_at < %(before)s "
            "ORDER BY deleted_at DESC, id",
            {"before": older_than},
        )
        return await cur.fetchall()


async def get_item(
    conn: AsyncConnection, item_id: str
) -> tuple[TrashItem, dict[str, list[dict[str, Any]]], list[dict[str, str]]] | None:
    """An item with its rows and folders."""
    async with conn.cursor(row_factory=class_row(TrashItem)) as cur:
        await cur.execute(f"SELECT {_ITEM_COLUMNS} FROM trash WHERE id = %s", (item_id,))
        item = await cur.fetchone()
    if item is None:
        return None
    cur2 = await conn.execute("SELECT rows, folders FROM trash WHERE id = %s", (item_id,))
    found = await cur2.fetchone()
    assert found is not None
    return item, dict(found[0]), list(found[1])


async def lock_item(conn: AsyncConnection, item_id: str) -> bool:
    """Lock an item for this transaction (one restore or purge at a time); False when it is
    gone meanwhile or row-level security does not let this role touch it."""
    cur = await conn.execute("SELECT 1 FROM trash WHERE id = %s FOR UPDATE", (item_id,))
    return await cur.fetchone() is not None


async def delete_item(conn: AsyncConnection, item_id: str) -> bool:
    """False when PostgreSQL did not delete it (gone, or its row-level security refused)."""
    cur = await conn.execute("DELETE FROM trash WHERE id = %s", (item_id,))
    return cur.rowcount == 1


async def expired(conn: AsyncConnection, limit: int) -> list[str]:
    """Items past their time, locked for this purge (others skip them)."""
    cur = await conn.execute(
        "SELECT id FROM trash WHERE expires_at <= now() ORDER BY expires_at "
        "LIMIT %s FOR UPDATE SKIP LOCKED",
        (limit,),
    )
    return [row[0] for row in await cur.fetchall()]


async def holding(conn: AsyncConnection, table: str, row_id: str) -> TrashItem | None:
    """The trash item that holds row ``row_id`` of ``table`` (projects, pipelines, nodes)."""
    assert table in ("projects", "pipelines", "nodes")
    async with conn.cursor(row_factory=class_row(TrashItem)) as cur:
        await cur.execute(
            f"SELECT {_ITEM_COLUMNS} FROM trash WHERE rows->%s @> %s "
            "ORDER BY deleted_at DESC LIMIT 1",
            (table, Jsonb([{"id": row_id}])),
        )
        return await cur.fetchone()


async def existing(conn: AsyncConnection, table: str, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are rows of ``table`` now."""
    assert table in ("projects", "pipelines", "nodes", "node_groups", "runs")
    cur = await conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", (list(ids),))
    return {row[0] for row in await cur.fetchall()}


async def put_back(conn: AsyncConnection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the rows again, table by table in reference order. The caller has checked that
    what they refer to exists; history refering to rows gone meanwhile is left out."""
    for table in TABLES:
        taken = rows.get(table) or []
        if not taken:
            continue
        where = _WHERE_STILL_THERE.get(table)
        conflict = " ON CONFLICT DO NOTHING" if where else ""
        await conn.execute(
            f"INSERT INTO {table} SELECT r.* FROM jsonb_populate_recordset(NULL::{table}, %s) r"
            f"{' WHERE ' + where if where else ''}{conflict}",
            (Jsonb(taken),),
        )


async def closes_cycle(conn: AsyncConnection, edge_ids: Sequence[str]) -> tuple[str, str] | None:
    """(parent, child) of one of these edges whose child reaches its parent again (a cycle),
    or None. UNION keeps each (edge, node) once: linear in the edges, whatever the shape."""
    cur = await conn.execute(
        "WITH RECURSIVE walk(origin, id) AS ("
        "  SELECT e.id, e.child_id FROM edges e WHERE e.id = ANY(%s)"
        "  UNION"
        "  SELECT w.origin, x.child_id FROM walk w JOIN edges x ON x.parent_id = w.id) "
        "SELECT e.parent_id, e.child_id FROM walk w JOIN edges e ON e.id = w.origin "
        "WHERE w.id = e.parent_id LIMIT 1",
        (list(edge_ids),),
    )
    row = await cur.fetchone()
    return None if row is None else (row[0], row[1])
