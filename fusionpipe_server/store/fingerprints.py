"""SQL for staleness: nodes' recorded fingerprints and reasons, and the stat cache."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from ..fingerprint.hashing import StatEntry
from ..fingerprint.parts import Parts
from .edges import descendants_cte


@dataclass
class FingerprintRow:
    id: str
    tag: str
    kind: str
    folder: str
    status: str
    fingerprint: str | None
    recorded: Parts | None  # the parts of the recorded fingerprint
    outputs_recorded: str | None
    outputs_seen: str | None
    stale_reasons: list[dict[str, str]]
    stale_manual: str | None
    made_by_run: str | None
    # (slot, parent id) in slot order
    parents: list[tuple[str, str]]


# The JSON columns come as text and are parsed through a cache: a check of an unchanged
# pipeline loads the same recorded parts again and again.
_COLUMNS = """n.id, n.tag, n.kind, n.folder, n.status, n.fingerprint, n.fingerprint_parts::text,
       n.outputs_recorded, n.outputs_seen, n.stale_reasons::text, n.stale_manual, n.made_by_run,
       coalesce((SELECT array_agg(ARRAY[e.slot, e.parent_id] ORDER BY e.slot)
                 FROM edges e WHERE e.child_id = n.id), '{}')"""


@functools.lru_cache(maxsize=4096)
def _recorded(text: str) -> Parts:
    return Parts.from_json(json.loads(text))


def _reasons(text: str) -> list[dict[str, str]]:
    return [] if text == "[]" else json.loads(text)


def _row(values: Sequence[Any]) -> FingerprintRow:
    (id_, tag, kind, folder, status, fingerprint, parts, recorded, seen, reasons, manual, made,
     parents) = values  # fmt: skip
    return FingerprintRow(
        id_,
        tag,
        kind,
        folder,
        status,
        fingerprint,
        _recorded(parts) if parts else None,
        recorded,
        seen,
        _reasons(reasons),
        manual,
        made,
        [(p[0], p[1]) for p in parents],
    )


async def rows(conn: AsyncConnection, node_ids: Sequence[str]) -> dict[str, FingerprintRow]:
    cur = await conn.execute(
        f"SELECT {_COLUMNS} FROM nodes n WHERE n.id = ANY(%s)", (list(node_ids),)
    )
    return {row[0]: _row(row) for row in await cur.fetchall()}


_SEED_NODES = "SELECT unnest(%(seed)s::text[])"
_SEED_PIPELINE = "SELECT node_id FROM pipeline_nodes WHERE pipeline_id = %(seed)s"


async def closure(
    conn: AsyncConnection, *, node_ids: Sequence[str] = (), pipeline_id: str | None = None
) -> tuple[list[str], list[str], dict[str, FingerprintRow]]:
    """The nodes (or a pipeline's members) plus every descendant: what must be assessed
    together; their parents that are not among them: what they read without assessing; and
    the rows of both, in one query."""
    seed = _SEED_PIPELINE if pipeline_id is not None else _SEED_NODES
    # Index lookups by arrays of ids throughout: the planner cannot estimate a recursive
    # query's size, and joined to it would scan every node and edge of the database.
    cur = await conn.execute(
        descendants_cte(seed) + ", readers AS (SELECT DISTINCT e.parent_id AS id FROM edges e "
        "  WHERE e.child_id = ANY(ARRAY(SELECT id FROM down)) "
        "  AND NOT EXISTS (SELECT 1 FROM down o WHERE o.id = e.parent_id)) "
        f"SELECT false, {_COLUMNS} FROM nodes n WHERE n.id = ANY(ARRAY(SELECT id FROM down)) "
        f"UNION ALL SELECT true, {_COLUMNS} FROM nodes n "
        "WHERE n.id = ANY(ARRAY(SELECT id FROM readers))",
        {"seed": pipeline_id if pipeline_id is not None else list(node_ids)},
    )
    scope: list[str] = []
    readers: list[str] = []
    found: dict[str, FingerprintRow] = {}
    for row in await cur.fetchall():
        (readers if row[0] else scope).append(row[1])
        found[row[1]] = _row(row[1:])
    return scope, readers, found


async def node_by_folder(conn: AsyncConnection, folder: str) -> str | None:
    cur = await conn.execute("SELECT id FROM nodes WHERE folder = %s", (folder,))
    row = await cur.fetchone()
    return row[0] if row else None


async def stat_entries(
    conn: AsyncConnection, node_ids: Sequence[str]
) -> dict[str, dict[str, StatEntry]]:
    cur = await conn.execute(
        "SELECT node_id, path, ino, size, mtime_ns, ctime_ns, hashed_at_ns, hash "
        "FROM node_files WHERE node_id = ANY(%s)",
        (list(node_ids),),
    )
    found: dict[str, dict[str, StatEntry]] = {node_id: {} for node_id in node_ids}
    for row in await cur.fetchall():
        found[row[0]][row[1]] = StatEntry(*row[2:])
    return found


async def save_stat_entries(
    conn: AsyncConnection,
    changed: Sequence[tuple[str, str, StatEntry]],
    removed: Sequence[tuple[str, str]],
) -> None:
    async with conn.cursor() as cur:
        if changed:
            await cur.executemany(
                "INSERT INTO node_files "
                "(node_id, path, ino, size, mtime_ns, ctime_ns, hashed_at_ns, hash) "
                "SELECT %s, %s, %s, %s, %s, %s, %s, %s WHERE EXISTS "
                "(SELECT 1 FROM nodes WHERE id = %s) "
                "ON CONFLICT (node_id, path) DO UPDATE SET ino = excluded.ino, "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "ctime_ns = excluded.ctime_ns, hashed_at_ns = excluded.hashed_at_ns, "
                "hash = excluded.hash",
                [
                    (n, p, e.ino, e.size, e.mtime_ns, e.ctime_ns, e.hashed_at_ns, e.hash, n)
                    for n, p, e in changed
                ],
            )
        if removed:
            await cur.execute(
                "DELETE FROM node_files f USING unnest(%s::text[], %s::text[]) AS r(n, p) "
                "WHERE f.node_id = r.n AND f.path = r.p",
                ([n for n, _ in removed], [p for _, p in removed]),
            )


async def lock_for_writing(conn: AsyncConnection, node_ids: Sequence[str]) -> set[str]:
    """The nodes this transaction may write staleness for: one server at a time per node
    (another one busy with a node computes the same answer from the same files)."""
    cur = await conn.execute(
        "SELECT id FROM unnest(%s::text[]) AS id "
        "WHERE pg_try_advisory_xact_lock(hashtextextended('fusionpipe-stale:' || id, 0))",
        (list(node_ids),),
    )
    return {row[0] for row in await cur.fetchall()}


async def write_assessment(
    conn: AsyncConnection,
    node_id: str,
    *,
    expected_status: str,
    expected_fingerprint: str | None,
    status: str,
    reasons: list[dict[str, str]],
    outputs_seen: str | None,
    adopt: tuple[str, dict[str, Any], str | None] | None = None,
) -> bool:
    """Store a node's assessed state, unless a run or another change got there first (its
    status or recorded fingerprint is no longer what the assessment started from)."""
    fingerprint, parts, outputs = adopt or (None, None, None)
    cur = await conn.execute(
        "UPDATE nodes SET status = %s, stale_reasons = %s, outputs_seen = %s, "
        "fingerprint = CASE WHEN %s THEN %s ELSE fingerprint END, "
        "fingerprint_parts = CASE WHEN %s THEN %s ELSE fingerprint_parts END, "
        "outputs_recorded = CASE WHEN %s THEN %s ELSE outputs_recorded END, "
        "updated_at = CASE WHEN status <> %s THEN now() ELSE updated_at END "
        "WHERE id = %s AND status = %s AND fingerprint IS NOT DISTINCT FROM %s",
        (
            status,
            Jsonb(reasons),
            outputs_seen,
            adopt is not None,
            fingerprint,
            adopt is not None,
            Jsonb(parts),
            adopt is not None,
            outputs,
            status,
            node_id,
            expected_status,
            expected_fingerprint,
        ),
    )
    return cur.rowcount == 1


async def record_success(
    conn: AsyncConnection,
    node_id: str,
    *,
    fingerprint: str,
    parts: dict[str, Any],
    outputs: str,
    run_id: str | None,
    restored_from: str | None = None,
) -> bool:
    """A node completed (ran, or was restored from the cache): it is up to date with what it
    started from. Returns False when something else (a kill) ended it first."""
    cur = await conn.execute(
        "UPDATE nodes SET status = 'completed', fingerprint = %s, fingerprint_parts = %s, "
        "outputs_recorded = %s, outputs_seen = %s, stale_reasons = '[]', stale_manual = NULL, "
        "made_by_run = %s, restored_from = %s, updated_at = now() "
        "WHERE id = %s AND status = 'running'",
        (fingerprint, Jsonb(parts), outputs, outputs, run_id, restored_from, node_id),
    )
    return cur.rowcount == 1


async def accept(
    conn: AsyncConnection,
    node_id: str,
    *,
    fingerprint: str,
    parts: dict[str, Any],
    outputs: str,
) -> None:
    """ "Set completed" by hand: the node's current state becomes its recorded one."""
    await conn.execute(
        "UPDATE nodes SET status = 'completed', fingerprint = %s, fingerprint_parts = %s, "
        "outputs_recorded = %s, outputs_seen = %s, stale_reasons = '[]', stale_manual = NULL, "
        "updated_at = now() WHERE id = %s",
        (fingerprint, Jsonb(parts), outputs, outputs, node_id),
    )


async def mark_stale(conn: AsyncConnection, node_ids: Sequence[str], who: str) -> None:
    """ "Set stale" by hand: stored, so the node always re-runs and is never restored."""
    await conn.execute(
        "UPDATE nodes SET status = 'staledata', stale_manual = %s, "
        "stale_reasons = jsonb_build_array(jsonb_build_object("
        "'kind', 'manual', 'message', 'set stale by ' || %s)), updated_at = now() "
        "WHERE id = ANY(%s) AND status <> 'running'",
        (who, who, list(node_ids)),
    )


async def forget_outputs(conn: AsyncConnection, node_ids: Sequence[str]) -> None:
    """Outputs cleared: nothing recorded is true any more."""
    await conn.execute(
        "UPDATE nodes SET fingerprint = NULL, fingerprint_parts = NULL, outputs_recorded = NULL, "
        "stale_reasons = '[]', stale_manual = NULL, made_by_run = NULL, restored_from = NULL "
        "WHERE id = ANY(%s)",
        (list(node_ids),),
    )


async def parent_runs(conn: AsyncConnection, node_id: str) -> dict[str, dict[str, Any]]:
    """slot -> the parent and the run that made the outputs it reads."""
    cur = await conn.execute(
        "SELECT e.slot, p.id, p.tag, p.made_by_run FROM edges e JOIN nodes p ON p.id = e.parent_id "
        "WHERE e.child_id = %s ORDER BY e.slot",
        (node_id,),
    )
    return {
        row[0]: {"node_id": row[1], "tag": row[2], "run_id": row[3]} for row in await cur.fetchall()
    }


async def members_signature(conn: AsyncConnection, pipeline_ids: Sequence[str]) -> tuple[int, int]:
    """How many nodes these pipelines hold, and a sum of their ids' hashes: cheap to ask every
    second, and different as soon as a node comes or goes."""
    cur = await conn.execute(
        "SELECT count(*), coalesce(sum(hashtextextended(node_id, 0)), 0) "
        "FROM (SELECT DISTINCT node_id FROM pipeline_nodes WHERE pipeline_id = ANY(%s)) m",
        (list(pipeline_ids),),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def folders_of_pipelines(
    conn: AsyncConnection, pipeline_ids: Sequence[str]
) -> list[tuple[str, str]]:
    """(node id, folder) of every node in these pipelines."""
    cur = await conn.execute(
        "SELECT DISTINCT n.id, n.folder FROM pipeline_nodes m JOIN nodes n ON n.id = m.node_id "
        "WHERE m.pipeline_id = ANY(%s) ORDER BY n.id",
        (list(pipeline_ids),),
    )
    return [(row[0], row[1]) for row in await cur.fetchall()]
