"""SQL for edges (global parent -> child links with input slots)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg.rows import class_row

from ..models import Edge

_COLUMNS = "e.id, e.parent_id AS source, e.child_id AS target, e.slot"


def descendants_cte(seed: str) -> str:
    """``down(id)``: the nodes of ``seed`` (a SELECT of node ids) and every descendant, in any
    pipeline; the one SQL home of the walk down the edges (``dag.descendants`` walks a graph
    already in memory).

    Each step is a per-row index lookup: the LATERAL subquery's OFFSET 0 keeps the planner from
    flattening it into a join that hashes the whole edges table at every step (a chain of 500
    descendants took 10 ms instead of 1), and from estimating a recursive query's size."""
    return (
        f"WITH RECURSIVE down(id) AS ({seed} UNION SELECT c.child_id FROM down d CROSS JOIN "
        "LATERAL (SELECT e.child_id FROM edges e WHERE e.parent_id = d.id OFFSET 0) c)"
    )


async def pipeline_edges(conn: AsyncConnection, pipeline_id: str) -> list[Edge]:
    """The edges of a pipeline: those whose child is a member."""
    async with conn.cursor(row_factory=class_row(Edge)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM edges e JOIN pipeline_nodes m ON m.node_id = e.child_id "
            f"WHERE m.pipeline_id = %s ORDER BY e.child_id, e.slot",
            (pipeline_id,),
        )
        return await cur.fetchall()


async def pipeline_pairs(conn: AsyncConnection, pipeline_id: str) -> list[tuple[str, str]]:
    """Just (parent, child) of every edge of a pipeline: what a cycle check needs, cheaply."""
    cur = await conn.execute(
        "SELECT e.parent_id, e.child_id FROM edges e "
        "JOIN pipeline_nodes m ON m.node_id = e.child_id WHERE m.pipeline_id = %s",
        (pipeline_id,),
    )
    return [(row[0], row[1]) for row in await cur.fetchall()]


async def get_edge(conn: AsyncConnection, edge_id: str) -> Edge | None:
    async with conn.cursor(row_factory=class_row(Edge)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM edges e WHERE e.id = %s", (edge_id,))
        return await cur.fetchone()


async def insert_edges(conn: AsyncConnection, edges: Sequence[Edge]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO edges (id, parent_id, child_id, slot) VALUES (%s, %s, %s, %s)",
            [(e.id, e.source, e.target, e.slot) for e in edges],
        )


async def delete_edges(conn: AsyncConnection, edge_ids: Sequence[str]) -> None:
    await conn.execute("DELETE FROM edges WHERE id = ANY(%s)", (list(edge_ids),))


async def parents_of(conn: AsyncConnection, node_ids: Sequence[str]) -> list[Edge]:
    """Every edge into the given nodes, whatever pipeline holds the parents."""
    async with conn.cursor(row_factory=class_row(Edge)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM edges e WHERE e.child_id = ANY(%s) "
            f"ORDER BY e.child_id, e.slot",
            (list(node_ids),),
        )
        return await cur.fetchall()


async def parent_folders(conn: AsyncConnection, node_id: str) -> dict[str, str]:
    """The folder of the parent in each input slot of a node."""
    cur = await conn.execute(
        "SELECT e.slot, n.folder FROM edges e JOIN nodes n ON n.id = e.parent_id "
        "WHERE e.child_id = %s",
        (node_id,),
    )
    return {slot: folder for slot, folder in await cur.fetchall()}
