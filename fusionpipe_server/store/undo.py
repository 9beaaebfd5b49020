"""SQL for the undo log (migration 0009): each user's edits of a pipeline, on two stacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

# How many edits a user's undo stack keeps per pipeline: older ones are forgotten.
KEPT = 200

_COLUMNS = "id, pipeline_id, username, label, changes, undone, seq"


@dataclass
class UndoEntry:
    id: int
    pipeline_id: str
    username: str
    label: str
    changes: list[dict[str, Any]]
    undone: bool
    seq: int


async def record(
    conn: AsyncConnection,
    pipeline_id: str,
    username: str,
    label: str,
    changes: Sequence[dict[str, Any]],
) -> None:
    """A new edit on top of the undo stack; it empties the redo stack, as in every editor."""
    await conn.execute(
        "DELETE FROM undo_entries WHERE pipeline_id = %s AND username = %s AND undone",
        (pipeline_id, username),
    )
    await conn.execute(
        "INSERT INTO undo_entries (pipeline_id, username, label, changes, keys) "
        "VALUES (%s, %s, %s, %s, %s)",
        (pipeline_id, username, label, Jsonb(list(changes)), [c["key"] for c in changes]),
    )
    await conn.execute(
        "DELETE FROM undo_entries WHERE id IN (SELECT id FROM undo_entries "
        "WHERE pipeline_id = %s AND username = %s AND NOT undone ORDER BY seq DESC OFFSET %s)",
        (pipeline_id, username, KEPT),
    )


async def top(
    conn: AsyncConnection, pipeline_id: str, username: str, *, undone: bool, lock: bool = False
) -> UndoEntry | None:
    """The next edit to undo (``undone`` False) or to redo (True); ``lock`` holds it for this
    transaction, so two undos of one stack never apply the same edit twice."""
    async with conn.cursor(row_factory=class_row(UndoEntry)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM undo_entries WHERE pipeline_id = %s AND username = %s "
            f"AND undone = %s ORDER BY seq DESC LIMIT 1{' FOR UPDATE' if lock else ''}",
            (pipeline_id, username, undone),
        )
        return await cur.fetchone()


async def flip(
    conn: AsyncConnection, entry_id: int, *, undone: bool, changes: Sequence[dict[str, Any]]
) -> None:
    """Move an edit to the other stack, on top (with what applying it learnt: trash ids)."""
    await conn.execute(
        "UPDATE undo_entries SET undone = %s, changes = %s, seq = nextval('undo_order') "
        "WHERE id = %s",
        (undone, Jsonb(list(changes)), entry_id),
    )


async def last_touch(
    conn: AsyncConnection, key: str, after_seq: int, other_than: int
) -> tuple[str, str] | None:
    """(user, label) of the newest edit, undo or redo of object ``key`` since ``after_seq``."""
    cur = await conn.execute(
        "SELECT username, label FROM undo_entries WHERE keys @> ARRAY[%s] AND seq > %s "
        "AND id <> %s ORDER BY seq DESC LIMIT 1",
        (key, after_seq, other_than),
    )
    row = await cur.fetchone()
    return None if row is None else (row[0], row[1])
