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


async def get_project(conn: AsyncConnection, project_id: str) -> Project | None:
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM projects WHERE id = %s", (project_id,))
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
