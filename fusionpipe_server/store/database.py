"""The connection pool; each ``transaction()`` is one PostgreSQL transaction.

Database failures become domain errors here, in one place: a unique constraint broken by a
concurrent request is a ``Conflict`` (409), and a database that cannot be reached is
``Unavailable`` (503) within seconds instead of a 30-second hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ..errors import Conflict, Forbidden, Unavailable
from . import schema

log = logging.getLogger(__name__)

# How long a request may wait for a connection, and a connection attempt for PostgreSQL: a
# request answers 503 well within 2 s when the database is gone.
WAIT_SECONDS = 1.5
CONNECT_SECONDS = 1
# While the database is away, how often it is tried again: the server is back within a
# fraction of a second of the database (psycopg_pool's own retry backs off to minutes).
PROBE_SECONDS = 0.25

# Constraint name -> what the user is told when a concurrent request took the value first.
_UNIQUE = {
    "pipelines_tag_unique": "another pipeline is already tagged so: pipeline tags are unique",
    "edges_pair_unique": "these two nodes are already connected",
    "edges_slot_unique": "that input slot of the child is already taken",
}
_UNAVAILABLE = "the fusionpipe database cannot be reached right now; try again in a moment"


def check_schema(dsn: str, *, migrate: bool) -> list[int]:
    """Migrate the schema (``migrate``) or refuse an outdated one; returns versions applied.

    Synchronous on purpose: it runs once while the server loads, before it serves anything.
    """
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            if migrate:
                return schema.migrate(conn)
            schema.require_current(conn)
            return []
    except psycopg.OperationalError as err:
        raise Unavailable(f"cannot connect to the fusionpipe database: {err}") from err


class Database:
    """Owns the async pool; opened in the extension's start hook, closed in its stop hook.

    When the database is lost, calls fail at once with ``Unavailable`` while a background task
    waits for it (first calling ``restart``, given when this server owns the database), then
    replaces the pool with a fresh one.
    """

    def __init__(
        self,
        dsn: str,
        *,
        max_size: int = 10,
        restart: Callable[[], None] | None = None,
        shared_backends: bool = False,
    ) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.restart = restart
        self.shared_backends = shared_backends
        self.pool = self._new_pool()
        self._recovery: asyncio.Task[None] | None = None

    def _new_pool(self) -> AsyncConnectionPool:
        return AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.max_size,
            open=False,
            timeout=WAIT_SECONDS,
            # No check query before each use: it would double the round trips of every call.
            # A connection PostgreSQL dropped fails its first query instead, which starts the
            # recovery below, and the recovery replaces the whole pool.
            kwargs={"connect_timeout": CONNECT_SECONDS, **self._preparing()},
        )

    def _preparing(self) -> dict[str, None]:
        # psycopg prepares a query run five times on a connection, on the backend it then has.
        # Behind a pooler in transaction mode (``shared_backends``, see pooling.py) the next
        # transaction may get another backend, where the statement does not exist; PgBouncer
        # 1.18 does not carry prepared statements across, so none are made.
        return {"prepare_threshold": None} if self.shared_backends else {}

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
            self._recovery = None
        await self.pool.close()

    @property
    def available(self) -> bool:
        return self._recovery is None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        if self._recovery is not None:
            raise Unavailable(_UNAVAILABLE)
        conn: psycopg.AsyncConnection | None = None
        try:
            async with self.pool.connection() as conn:
                yield conn
        except psycopg.errors.UniqueViolation as err:
            constraint = err.diag.constraint_name or ""
            raise Conflict(_UNIQUE.get(constraint, f"already exists ({constraint})")) from err
        except psycopg.errors.InsufficientPrivilege as err:
            # Row-level security or an owner-only change refused by PostgreSQL itself (see
            # migration 0006): the service asks first, so this is a script's or a stale admin
            # list's case.
            raise Forbidden(f"the database refused: {err.diag.message_primary}") from err
        except PoolTimeout as err:
            self._lost(err)
            raise Unavailable(_UNAVAILABLE) from err
        except psycopg.OperationalError as err:
            # Only a lost connection means the database is gone; a lock or statement timeout
            # on a live connection is the caller's business.
            if conn is None or conn.broken or conn.closed:
                self._lost(err)
                raise Unavailable(_UNAVAILABLE) from err
            raise

    def _lost(self, err: Exception) -> None:
        if self._recovery is None:
            log.warning("fusionpipe: lost the database (%s); waiting for it to come back", err)
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        while True:
            if await self._reachable():
                fresh = self._new_pool()
                try:
                    await fresh.open(wait=True, timeout=5)
                    break
                except PoolTimeout:
                    await fresh.close()
            await asyncio.sleep(PROBE_SECONDS)
        old, self.pool = self.pool, fresh
        self._recovery = None
        log.warning("fusionpipe: the database is back")
        await old.close(timeout=1)

    async def _reachable(self) -> bool:
        if self.restart is not None:
            try:
                await asyncio.to_thread(self.restart)
            except Exception as err:  # a restart can fail many ways; it is simply tried again
                log.warning("fusionpipe: restarting the embedded database failed: %s", err)
        try:
            conn = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=CONNECT_SECONDS)
        except psycopg.OperationalError:
            return False
        await conn.close()
        return True
