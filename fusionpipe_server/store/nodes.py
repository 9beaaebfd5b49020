"""SQL for nodes and their membership (position, group) in pipelines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from ..models import Node
from .edges import descendants_cte
from .items import COUNTS_JSON
from .locks import HOLDERS_JOIN, LOCKED, LOCKED_BY, READ_ONLY_REASON, REFERENCED

# A node as one pipeline sees it; "referenced" means some other pipeline holds it too,
# "locked" is derived (locks.py), and "started_at" is when its current run started (looked up
# only for running nodes: the CASE skips the subquery for the others, so a large graph costs no
# more).
_MEMBER_SELECT = f"""
SELECT n.id, n.project_id, n.tag, n.notes, n.kind, n.status, n.owner, n.folder,
       {LOCKED} AS locked, {LOCKED_BY} AS locked_by,
       m.x, m.y, m.group_id,
       {REFERENCED} AS referenced, {READ_ONLY_REASON} AS read_only_reason,
       CASE WHEN n.status = 'running' THEN
           (SELECT max(r.started_at) FROM run_nodes r
            WHERE r.node_id = n.id AND r.status = 'running')
       END AS started_at,
       n.stale_reasons, {COUNTS_JSON} AS items
FROM pipeline_nodes m JOIN nodes n ON n.id = m.node_id {HOLDERS_JOIN}
WHERE m.pipeline_id = %s
"""


async def members(conn: AsyncConnection, pipeline_id: str) -> list[Node]:
    """Every node of a pipeline in one query, in creation order."""
    async with conn.cursor(row_factory=class_row(Node)) as cur:
        await cur.execute(_MEMBER_SELECT + " ORDER BY n.created_at, n.id", (pipeline_id,))
        return await cur.fetchall()


async def member(conn: AsyncConnection, pipeline_id: str, node_id: str) -> Node | None:
    async with conn.cursor(row_factory=class_row(Node)) as cur:
        await cur.execute(_MEMBER_SELECT + " AND n.id = %s", (pipeline_id, node_id))
        return await cur.fetchone()


async def members_by_id(
    conn: AsyncConnection, pipeline_id: str, node_ids: Sequence[str]
) -> dict[str, Node]:
    """Some members of a pipeline, by id (unknown ids are simply absent)."""
    async with conn.cursor(row_factory=class_row(Node)) as cur:
        await cur.execute(_MEMBER_SELECT + " AND n.id = ANY(%s)", (pipeline_id, list(node_ids)))
        return {node.id: node for node in await cur.fetchall()}


async def positions(conn: AsyncConnection, pipeline_id: str) -> list[tuple[float, float]]:
    """Where the pipeline's nodes are drawn (top-left corners)."""
    cur = await conn.execute(
        "SELECT x, y FROM pipeline_nodes WHERE pipeline_id = %s", (pipeline_id,)
    )
    return [(row[0], row[1]) for row in await cur.fetchall()]


async def insert_nodes(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """New node rows: dicts with id, project_id, tag, notes, kind, status, locked, owner, folder."""
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO nodes (id, project_id, tag, notes, kind, status, locked, owner, folder) "
            "VALUES (%(id)s, %(project_id)s, %(tag)s, %(notes)s, %(kind)s, %(status)s, "
            "%(locked)s, %(owner)s, %(folder)s)",
            rows,
        )


async def add_members(
    conn: AsyncConnection, pipeline_id: str, positions: Iterable[tuple[str, float, float]]
) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO pipeline_nodes (pipeline_id, node_id, x, y) VALUES (%s, %s, %s, %s)",
            [(pipeline_id, node_id, x, y) for node_id, x, y in positions],
        )


async def remove_member(conn: AsyncConnection, pipeline_id: str, node_id: str) -> bool:
    """False when nothing was removed (no such member, or row-level security refused)."""
    cur = await conn.execute(
        "DELETE FROM pipeline_nodes WHERE pipeline_id = %s AND node_id = %s",
        (pipeline_id, node_id),
    )
    return cur.rowcount == 1


async def pipelines_holding(conn: AsyncConnection, node_id: str) -> list[str]:
    rows = await (
        await conn.execute("SELECT pipeline_id FROM pipeline_nodes WHERE node_id = %s", (node_id,))
    ).fetchall()
    return [row[0] for row in rows]


async def delete_nodes(conn: AsyncConnection, node_ids: Sequence[str]) -> int:
    """How many rows went: fewer than asked when row-level security refused some."""
    cur = await conn.execute("DELETE FROM nodes WHERE id = ANY(%s)", (list(node_ids),))
    return cur.rowcount


async def forget_stat_entries(conn: AsyncConnection, node_ids: Sequence[str]) -> None:
    """Drop the stat cache (``node_files``) of nodes about to be deleted."""
    await conn.execute("DELETE FROM node_files WHERE node_id = ANY(%s)", (list(node_ids),))


async def members_of(conn: AsyncConnection, pipeline_ids: Sequence[str]) -> list[str]:
    """The nodes any of these pipelines hold, each once."""
    cur = await conn.execute(
        "SELECT DISTINCT node_id FROM pipeline_nodes WHERE pipeline_id = ANY(%s) ORDER BY 1",
        (list(pipeline_ids),),
    )
    return [row[0] for row in await cur.fetchall()]


async def running_among(conn: AsyncConnection, node_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(id, tag) of those of ``node_ids`` that are running."""
    cur = await conn.execute(
        "SELECT id, tag FROM nodes WHERE id = ANY(%s) AND status = 'running' ORDER BY tag, id",
        (list(node_ids),),
    )
    return [(row[0], row[1]) for row in await cur.fetchall()]


async def held_only_by(
    conn: AsyncConnection, node_ids: Sequence[str], pipeline_ids: Sequence[str]
) -> list[str]:
    """Those of ``node_ids`` that no pipeline but these holds."""
    cur = await conn.execute(
        "SELECT n.id FROM nodes n WHERE n.id = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pipeline_nodes m WHERE m.node_id = n.id "
        " AND NOT m.pipeline_id = ANY(%s)) ORDER BY n.id",
        (list(node_ids), list(pipeline_ids)),
    )
    return [row[0] for row in await cur.fetchall()]


async def orphans(conn: AsyncConnection, node_ids: Sequence[str]) -> list[str]:
    """Those of ``node_ids`` that no pipeline holds any more."""
    rows = await (
        await conn.execute(
            "SELECT id FROM nodes n WHERE id = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pipeline_nodes m WHERE m.node_id = n.id)",
            (list(node_ids),),
        )
    ).fetchall()
    return [row[0] for row in rows]


async def update_node(
    conn: AsyncConnection,
    node_id: str,
    *,
    tag: str | None = None,
    notes: str | None = None,
    locked: bool | None = None,
) -> None:
    await conn.execute(
        "UPDATE nodes SET tag = coalesce(%s, tag), notes = coalesce(%s, notes), "
        "locked = coalesce(%s, locked), updated_at = now() WHERE id = %s",
        (tag, notes, locked, node_id),
    )


async def set_statuses(conn: AsyncConnection, statuses: dict[str, str]) -> None:
    if not statuses:
        return
    await conn.execute(
        "UPDATE nodes SET status = s.status, updated_at = now() "
        "FROM unnest(%s::text[], %s::text[]) AS s(id, status) WHERE nodes.id = s.id",
        (list(statuses), list(statuses.values())),
    )


async def set_positions(
    conn: AsyncConnection, pipeline_id: str, positions: dict[str, tuple[float, float]]
) -> int:
    """Move members in one statement; returns how many rows matched."""
    cur = await conn.execute(
        "UPDATE pipeline_nodes m SET x = p.x, y = p.y "
        "FROM unnest(%s::text[], %s::float8[], %s::float8[]) AS p(id, x, y) "
        "WHERE m.pipeline_id = %s AND m.node_id = p.id",
        (
            list(positions),
            [x for x, _ in positions.values()],
            [y for _, y in positions.values()],
            pipeline_id,
        ),
    )
    return cur.rowcount


async def set_group(
    conn: AsyncConnection, pipeline_id: str, node_ids: Sequence[str], group_id: str | None
) -> None:
    await conn.execute(
        "UPDATE pipeline_nodes SET group_id = %s WHERE pipeline_id = %s AND node_id = ANY(%s)",
        (group_id, pipeline_id, list(node_ids)),
    )


async def folders_of(conn: AsyncConnection, node_ids: Sequence[str]) -> list[str]:
    rows = await (
        await conn.execute("SELECT folder FROM nodes WHERE id = ANY(%s)", (list(node_ids),))
    ).fetchall()
    return [row[0] for row in rows]


async def downstream(
    conn: AsyncConnection, node_ids: Sequence[str]
) -> tuple[dict[str, str], set[str]]:
    """The statuses of the given nodes and of all their descendants (in any pipeline), and
    which of them are descendants: one recursive query, for status propagation."""
    rows = await (
        await conn.execute(
            descendants_cte("SELECT e.child_id FROM edges e WHERE e.parent_id = ANY(%(ids)s)")
            + " SELECT n.id, n.status, d.id IS NOT NULL FROM nodes n "
            "LEFT JOIN down d ON d.id = n.id "
            "WHERE d.id IS NOT NULL OR n.id = ANY(%(ids)s)",
            {"ids": list(node_ids)},
        )
    ).fetchall()
    return {row[0]: row[1] for row in rows}, {row[0] for row in rows if row[2]}


async def identities(conn: AsyncConnection, node_ids: Sequence[str]) -> list[dict[str, Any]]:
    """What a node's identity file holds (but its parameters), for the given nodes."""
    rows = await (
        await conn.execute(
            "SELECT n.id, n.tag, n.kind, n.project_id, n.folder, coalesce(json_agg("
            "  json_build_object('id', p.id, 'tag', p.tag, 'slot', e.slot, 'folder', p.folder)"
            "  ORDER BY e.slot) FILTER (WHERE p.id IS NOT NULL), '[]') "
            "FROM nodes n LEFT JOIN edges e ON e.child_id = n.id "
            "LEFT JOIN nodes p ON p.id = e.parent_id "
            "WHERE n.id = ANY(%s) GROUP BY n.id",
            (list(node_ids),),
        )
    ).fetchall()
    return [
        {
            "node_id": row[0],
            "tag": row[1],
            "kind": row[2],
            "project_id": row[3],
            "folder": row[4],
            "parents": row[5],
        }
        for row in rows
    ]


async def children(conn: AsyncConnection, node_id: str) -> list[str]:
    rows = await (
        await conn.execute("SELECT child_id FROM edges WHERE parent_id = %s", (node_id,))
    ).fetchall()
    return [row[0] for row in rows]


async def tags(conn: AsyncConnection, node_ids: Sequence[str]) -> dict[str, str]:
    cur = await conn.execute("SELECT id, tag FROM nodes WHERE id = ANY(%s)", (list(node_ids),))
    return {row[0]: row[1] for row in await cur.fetchall()}


async def read_only_states(
    conn: AsyncConnection, node_ids: Sequence[str]
) -> list[tuple[str, bool]]:
    """(folder, whether it must be read-only: locked, or held by more than one pipeline)."""
    cur = await conn.execute(
        f"SELECT n.folder, {LOCKED} OR {REFERENCED} FROM nodes n {HOLDERS_JOIN} "
        "WHERE n.id = ANY(%s)",
        (list(node_ids),),
    )
    return [(row[0], bool(row[1])) for row in await cur.fetchall()]


async def finish_running(conn: AsyncConnection, node_id: str, status: str) -> bool:
    """Set the outcome of a run, unless something (a kill) already ended it."""
    cur = await conn.execute(
        "UPDATE nodes SET status = %s, updated_at = now() WHERE id = %s AND status = 'running'",
        (status, node_id),
    )
    return cur.rowcount == 1


async def node_row(conn: AsyncConnection, node_id: str) -> tuple[str, str, str] | None:
    """(kind, folder, tag) of a node."""
    cur = await conn.execute("SELECT kind, folder, tag FROM nodes WHERE id = %s", (node_id,))
    row = await cur.fetchone()
    return (row[0], row[1], row[2]) if row else None


async def status_of(conn: AsyncConnection, node_id: str) -> str | None:
    cur = await conn.execute("SELECT status FROM nodes WHERE id = %s", (node_id,))
    row = await cur.fetchone()
    return row[0] if row else None


async def pipelines_sharing(conn: AsyncConnection, pipeline_id: str) -> list[str]:
    """The other pipelines that hold at least one node of this one."""
    cur = await conn.execute(
        "SELECT DISTINCT o.pipeline_id FROM pipeline_nodes m "
        "JOIN pipeline_nodes o ON o.node_id = m.node_id "
        "WHERE m.pipeline_id = %s AND o.pipeline_id <> m.pipeline_id ORDER BY 1",
        (pipeline_id,),
    )
    return [row[0] for row in await cur.fetchall()]
