"""Versioned schema migrations: numbered SQL files applied in order, one transaction each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from ..errors import Unavailable

# Any constant works; it only has to be the same in every fusionpipe process so that two
# servers starting at once on one database migrate one after the other.
_MIGRATION_LOCK = 7_204_117_001

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS fusionpipe_schema (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


class SchemaOutdated(Unavailable):
    """The database is older than this fusionpipe; an administrator must migrate it."""


class OriginalDatabase(Unavailable):
    """The database belongs to the original fusionpipe: it is imported, never migrated."""


# Tables only the original fusionpipe (v2) has; this fusionpipe names them differently.
ORIGINAL_TABLES = ("node_pipeline_relation", "node_relation", "pipeline_relation")

ORIGINAL_ADVICE = (
    "this is a database of the original fusionpipe, which this fusionpipe does not migrate: "
    "give this fusionpipe a new database and bring the original's work over with "
    "`fusionpipe admin import-original --from DSN --from-data PATH`"
)


def original_tables(conn: psycopg.Connection) -> list[str]:
    """Which of the original fusionpipe's tables this database has."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
        "WHERE s.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND c.relname = ANY(%s) ORDER BY c.relname",
        (list(ORIGINAL_TABLES),),
    ).fetchall()
    return [row[0] for row in rows]


def refuse_original(conn: psycopg.Connection) -> None:
    """Migrating an original database would fail half-way on its ``projects`` table."""
    if original_tables(conn):
        raise OriginalDatabase(ORIGINAL_ADVICE)


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    return migrations()[-1].version


def current_version(conn: psycopg.Connection) -> int:
    """The newest version applied to this database; 0 for a database fusionpipe never touched."""
    exists = conn.execute("SELECT to_regclass('fusionpipe_schema') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM fusionpipe_schema").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, *, up_to: int | None = None) -> list[int]:
    """Apply every missing migration (up to version ``up_to`` if given); returns the versions
    applied. Safe to run concurrently."""
    applied: list[int] = []
    refuse_original(conn)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(_VERSION_TABLE)
        version = current_version(conn)
        for migration in migrations():
            if migration.version <= version or (up_to is not None and migration.version > up_to):
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO fusionpipe_schema (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            applied.append(migration.version)
    return applied


def require_current(conn: psycopg.Connection) -> None:
    """Refuse a database whose schema is not the one this fusionpipe was built for."""
    version, latest = current_version(conn), latest_version()
    if version == 0:
        refuse_original(conn)
    if version < latest:
        raise SchemaOutdated(
            f"the fusionpipe database is at schema version {version}, this fusionpipe needs "
            f"{latest}: run `fusionpipe admin migrate` (as the database administrator) first"
        )
    if version > latest:
        raise SchemaOutdated(
            f"the fusionpipe database is at schema version {version}, newer than this "
            f"fusionpipe ({latest}): upgrade the fusionpipe package"
        )
