"""SQL for node groups (visual boxes in one pipeline)."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import class_row

from ..models import Group

_COLUMNS = "id, pipeline_id, tag, collapsed, x, y, width, height"


async def pipeline_groups(conn: AsyncConnection, pipeline_id: str) -> list[Group]:
    async with conn.cursor(row_factory=class_row(Group)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM node_groups WHERE pipeline_id = %s ORDER BY id",
            (pipeline_id,),
        )
        return await cur.fetchall()


async def get_group(conn: AsyncConnection, group_id: str) -> Group | None:
    async with conn.cursor(row_factory=class_row(Group)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM node_groups WHERE id = %s", (group_id,))
        return await cur.fetchone()


async def insert_group(conn: AsyncConnection, group: Group) -> None:
    await conn.execute(
        f"INSERT INTO node_groups ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            group.id,
            group.pipeline_id,
            group.tag,
            group.collapsed,
            group.x,
            group.y,
            group.width,
            group.height,
        ),
    )


async def update_group(conn: AsyncConnection, group: Group) -> None:
    await conn.execute(
        "UPDATE node_groups SET tag = %s, collapsed = %s, x = %s, y = %s, width = %s, "
        "height = %s WHERE id = %s",
        (group.tag, group.collapsed, group.x, group.y, group.width, group.height, group.id),
    )


async def delete_group(conn: AsyncConnection, group_id: str) -> None:
    await conn.execute("DELETE FROM node_groups WHERE id = %s", (group_id,))
