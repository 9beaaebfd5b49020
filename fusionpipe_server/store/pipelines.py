"""SQL for pipelines and their lineage."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row

from ..models import Pipeline

_COLUMNS = "id, project_id, tag, notes, owner, locked, created_at, updated_at"


async def list_pipelines(conn: AsyncConnection, project_id: str | None = None) -> list[Pipeline]:
    async with conn.cursor(row_factory=class_row(Pipeline)) as cur:
        if project_id is None:
            await cur.execute(f"SELECT {_COLUMNS} FROM pipelines ORDER BY created_at, id")
        else:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM pipelines WHERE project_id = %s ORDER BY created_at, id",
                (project_id,),
            )
        return await cur.fetchall()


async def get_pipeline(
    conn: AsyncConnection, pipeline_id: str, *, for_update: bool = False
) -> Pipeline | None:
    """One pipeline; ``for_update`` locks its row so graph edits on it run one at a time."""
    lock = " FOR UPDATE" if for_update else ""
    async with conn.cursor(row_factory=class_row(Pipeline)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM pipelines WHERE id = %s{lock}", (pipeline_id,))
        return await cur.fetchone()


async def get_pipeline_by_tag(conn: AsyncConnection, tag: str) -> Pipeline | None:
    async with conn.cursor(row_factory=class_row(Pipeline)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM pipelines WHERE tag = %s", (tag,))
        return await cur.fetchone()


async def tag_taken(conn: AsyncConnection, tag: str, *, other_than: str | None = None) -> bool:
    row = await (
        await conn.execute(
            "SELECT 1 FROM pipelines WHERE tag = %s AND id IS DISTINCT FROM %s", (tag, other_than)
        )
    ).fetchone()
    return row is not None


async def insert_pipeline(
    conn: AsyncConnection, pipeline_id: str, project_id: str, tag: str, notes: str, owner: str
) -> Pipeline:
    async with conn.cursor(row_factory=class_row(Pipeline)) as cur:
        await cur.execute(
            f"INSERT INTO pipelines (id, project_id, tag, notes, owner) "
            f"VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (pipeline_id, project_id, tag, notes, owner),
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def update_pipeline(
    conn: AsyncConnection,
    pipeline_id: str,
    *,
    tag: str | None = None,
    notes: str | None = None,
    project_id: str | None = None,
    locked: bool | None = None,
) -> Pipeline:
    """Change the given fields (None leaves a field as it is)."""
    async with conn.cursor(row_factory=class_row(Pipeline)) as cur:
        await cur.execute(
            f"UPDATE pipelines SET tag = coalesce(%s, tag), notes = coalesce(%s, notes), "
            f"project_id = coalesce(%s, project_id), locked = coalesce(%s, locked), "
            f"updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
            (tag, notes, project_id, locked, pipeline_id),
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def delete_pipeline(conn: AsyncConnection, pipeline_id: str) -> bool:
    """False when nothing went (no such pipeline, or row-level security refused)."""
    cur = await conn.execute("DELETE FROM pipelines WHERE id = %s", (pipeline_id,))
    return cur.rowcount == 1


async def add_lineage(
    conn: AsyncConnection, child_id: str, parent_ids: list[str], relation: str
) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO pipeline_lineage (child_id, parent_id, relation) VALUES (%s, %s, %s)",
            [(child_id, parent, relation) for parent in parent_ids],
        )


async def project_lineage(conn: AsyncConnection, project_id: str) -> list[dict[str, str]]:
    """Lineage edges between pipelines of one project."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT l.parent_id AS source, l.child_id AS target, l.relation "
            "FROM pipeline_lineage l JOIN pipelines c ON c.id = l.child_id "
            "JOIN pipelines p ON p.id = l.parent_id "
            "WHERE c.project_id = %s AND p.project_id = %s ORDER BY l.parent_id, l.child_id",
            (project_id, project_id),
        )
        return await cur.fetchall()
