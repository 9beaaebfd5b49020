"""Reading an original fusionpipe (v2.2.0) database, read-only: SQL only, no rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from psycopg.rows import class_row

from ..errors import Invalid, Unavailable
from ..store.schema import ORIGINAL_TABLES, original_tables

Row = TypeVar("Row")


@dataclass(frozen=True)
class OriginalProject:
    project_id: str
    tag: str | None
    notes: str | None
    owner: str | None


@dataclass(frozen=True)
class OriginalPipeline:
    pipeline_id: str
    tag: str | None
    notes: str | None
    owner: str | None
    project_id: str | None
    blocked: bool | None


@dataclass(frozen=True)
class OriginalNode:
    node_id: str
    status: str | None
    notes: str | None
    folder_path: str | None
    node_tag: str | None
    blocked: bool | None
    project_id: str | None
    owner: str | None


@dataclass(frozen=True)
class OriginalMember:
    node_id: str
    pipeline_id: str
    position_x: float | None
    position_y: float | None


@dataclass(frozen=True)
class OriginalEdge:
    id: int
    child_id: str
    parent_id: str
    edge_id: str | None


@dataclass(frozen=True)
class OriginalLineage:
    child_id: str
    parent_id: str | None


@dataclass(frozen=True)
class OriginalGroup:
    group_id: str
    pipeline_id: str
    tag: str | None
    collapsed: bool | None
    pos_x: float | None
    pos_y: float | None
    width: float | None
    height: float | None


@dataclass(frozen=True)
class OriginalInstallation:
    """Every row the import needs, as the original stored it."""

    projects: list[OriginalProject]
    pipelines: list[OriginalPipeline]
    nodes: list[OriginalNode]
    members: list[OriginalMember]
    edges: list[OriginalEdge]
    lineage: list[OriginalLineage]
    groups: list[OriginalGroup] = field(default_factory=list)
    # node_id -> group_id (a node is in at most one group in the original)
    grouped: dict[str, str] = field(default_factory=dict)


def connect(dsn: str) -> psycopg.Connection:
    """A connection that cannot write: every transaction on it is read-only."""
    try:
        return psycopg.connect(
            dsn, connect_timeout=10, options="-c default_transaction_read_only=on"
        )
    except psycopg.Error as err:
        raise Unavailable(f"cannot connect to the original database (--from): {err}") from err


def _has_column(conn: psycopg.Connection, table: str, column: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s AND column_name = %s",
        (table, column),
    ).fetchone()
    return row is not None


def read(conn: psycopg.Connection) -> OriginalInstallation:
    """The whole installation, in id order. ``Invalid`` if this is not an original database."""
    missing = sorted(set(ORIGINAL_TABLES) - set(original_tables(conn)))
    if missing or not _has_column(conn, "nodes", "node_id"):
        raise Invalid(
            "the --from database is not a database of the original fusionpipe: it has no "
            f"table {', '.join(missing) or 'nodes with a node_id column'}"
        )
    # The original never filled nodes.owner in some versions, and may lack the column.
    node_owner = "owner" if _has_column(conn, "nodes", "owner") else "NULL::text"

    def rows(cls: type[Row], query: str) -> list[Row]:
        with conn.cursor(row_factory=class_row(cls)) as cur:
            cur.execute(query)
            return cur.fetchall()

    installation = OriginalInstallation(
        projects=rows(
            OriginalProject, "SELECT project_id, tag, notes, owner FROM projects ORDER BY 1"
        ),
        pipelines=rows(
            OriginalPipeline,
            "SELECT pipeline_id, tag, notes, owner, project_id, blocked FROM pipelines ORDER BY 1",
        ),
        nodes=rows(
            OriginalNode,
            "SELECT node_id, status, notes, folder_path, node_tag, blocked, project_id, "
            f"{node_owner} AS owner FROM nodes ORDER BY 1",
        ),
        members=rows(
            OriginalMember,
            "SELECT node_id, pipeline_id, position_x, position_y FROM node_pipeline_relation "
            "ORDER BY pipeline_id, node_id",
        ),
        edges=rows(
            OriginalEdge,
            "SELECT id, child_id, parent_id, edge_id FROM node_relation ORDER BY id",
        ),
        lineage=rows(
            OriginalLineage, "SELECT child_id, parent_id FROM pipeline_relation ORDER BY id"
        ),
    )
    # Groups came late (v2.1); an older installation has no such tables.
    if {"node_groups", "node_group_relation"} <= set(_tables(conn)):
        installation.groups.extend(
            rows(
                OriginalGroup,
                "SELECT group_id, pipeline_id, tag, collapsed, pos_x, pos_y, width, height "
                "FROM node_groups ORDER BY 1",
            )
        )
        grouped = conn.execute("SELECT node_id, group_id FROM node_group_relation").fetchall()
        installation.grouped.update({row[0]: row[1] for row in grouped})
    return installation


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return [row[0] for row in rows]
