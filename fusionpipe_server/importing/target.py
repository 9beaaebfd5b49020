"""What the target database already holds of an original installation: SQL only."""

from __future__ import annotations

from psycopg import AsyncConnection

from .outcome import Existing


async def existing(conn: AsyncConnection) -> Existing:
    """Ids and the fields an import compares, for everything already in the target."""
    found = Existing()
    for row in await (await conn.execute("SELECT id, tag, notes FROM projects")).fetchall():
        found.projects[row[0]] = {"tag": row[1], "notes": row[2]}
    cur = await conn.execute("SELECT id, tag, notes, locked FROM pipelines")
    for row in await cur.fetchall():
        found.pipelines[row[0]] = {"tag": row[1], "notes": row[2], "locked": row[3]}
        found.pipeline_tags[row[1]] = row[0]
    cur = await conn.execute("SELECT id, tag, notes, status, locked FROM nodes")
    for row in await cur.fetchall():
        found.nodes[row[0]] = {"tag": row[1], "notes": row[2], "status": row[3], "locked": row[4]}
    cur = await conn.execute("SELECT pipeline_id, node_id FROM pipeline_nodes")
    found.members = {(row[0], row[1]) for row in await cur.fetchall()}
    cur = await conn.execute("SELECT parent_id, child_id, slot FROM edges")
    found.edges = {(row[0], row[1]): row[2] for row in await cur.fetchall()}
    cur = await conn.execute("SELECT id FROM node_groups")
    found.groups = {row[0] for row in await cur.fetchall()}
    cur = await conn.execute("SELECT child_id, parent_id FROM pipeline_lineage")
    found.lineage = {(row[0], row[1]) for row in await cur.fetchall()}
    return found


async def lock_for_import(conn: AsyncConnection) -> None:
    """One import at a time: a second one waits, then sees what the first wrote."""
    await conn.execute("SELECT pg_advisory_xact_lock(7204117002)")
