"""SQL for the admins PostgreSQL knows (``fusionpipe_admins``), which its row-level security
policies consult; only the database's owner may change them."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import AsyncConnection


async def list_admins(conn: AsyncConnection) -> list[str]:
    cur = await conn.execute("SELECT name FROM fusionpipe_admins ORDER BY name")
    return [row[0] for row in await cur.fetchall()]


async def replace_admins(conn: AsyncConnection, names: Iterable[str]) -> None:
    """Make the admins exactly ``names``. ``InsufficientPrivilege`` for a role that may not."""
    wanted = sorted(set(names))
    await conn.execute("DELETE FROM fusionpipe_admins WHERE NOT (name = ANY(%s))", (wanted,))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO fusionpipe_admins (name) VALUES (%s) ON CONFLICT DO NOTHING",
            [(name,) for name in wanted],
        )


def list_admins_sync(conn: psycopg.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM fusionpipe_admins ORDER BY name")]


def replace_admins_sync(conn: psycopg.Connection, names: Iterable[str]) -> None:
    wanted = sorted(set(names))
    with conn.transaction():
        conn.execute("DELETE FROM fusionpipe_admins WHERE NOT (name = ANY(%s))", (wanted,))
        for name in wanted:
            conn.execute(
                "INSERT INTO fusionpipe_admins (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,)
            )
