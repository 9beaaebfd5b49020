"""SQL for projects."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import class_row

from ..models import Project

_COLUMNS = "id, tag, notes, owner, created_at, updated_at"


async def list_projects(conn: AsyncConnection) -> list[Project]:
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM projects ORDER BY created_at, id")
        return await cur.fetchall()


async def get_project(
    conn: AsyncConnection, project_id: str, *, for_update: bool = False
) -> Project | None:
    lock = " FOR UPDATE" if for_update else ""
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM projects WHERE id = %s{lock}", (project_id,))
        return await cur.fetchone()


async def insert_project(
    conn: AsyncConnection, project_id: str, tag: str, notes: str, owner: str
) -> Project:
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(
            f"INSERT INTO projects (id, tag, notes, owner) VALUES (%s, %s, %s, %s) "
            f"RETURNING {_COLUMNS}",
            (project_id, tag, notes, owner),
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def update_project(
    conn: AsyncConnection, project_id: str, *, tag: str | None, notes: str | None
) -> Project:
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(
            f"UPDATE projects SET tag = coalesce(%s, tag), notes = coalesce(%s, notes), "
            f"updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
            (tag, notes, project_id),
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def rehome_nodes(conn: AsyncConnection, project_id: str) -> None:
    """Give the nodes of ``project_id`` that only other projects' pipelines still hold to one of
    those projects (their folders stay where they are: the folder path is stored apart)."""
    await conn.execute(
        "UPDATE nodes n SET project_id = ("
        "  SELECT p.project_id FROM pipeline_nodes m JOIN pipelines p ON p.id = m.pipeline_id"
        "  WHERE m.node_id = n.id ORDER BY p.created_at LIMIT 1) "
        "WHERE n.project_id = %s AND NOT EXISTS ("
        "  SELECT 1 FROM pipeline_nodes m JOIN pipelines p ON p.id = m.pipeline_id"
        "  WHERE m.node_id = n.id AND p.project_id = %s) "
        "AND EXISTS (SELECT 1 FROM pipeline_nodes m WHERE m.node_id = n.id)",
        (project_id, project_id),
    )


async def delete_project(conn: AsyncConnection, project_id: str) -> bool:
    """False when nothing went (no such project, or row-level security refused)."""
    cur = await conn.execute("DELETE FROM projects WHERE id = %s", (project_id,))
    return cur.rowcount == 1
