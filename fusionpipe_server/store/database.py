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

# The connections one server's pool may hold (FusionpipeApp.db_pool_size): with the LISTEN
# connection, every server's share of PostgreSQL's max_connections (see the README's sizing).
DEFAULT_POOL_SIZE = 3
# How long a request queues for a connection of a busy pool before it answers 503 (busy).
WAIT_SECONDS = 10.0
# A connection the pool has not needed for this long is closed: an idle server holds one.
MAX_IDLE_SECONDS = 60.0
# How long a connection attempt may take: a request answers 503 well within 2 s when the
# database is gone (its pooled connection fails at once).
CONNECT_SECONDS = 1
# While the database is away, how often it is tried again: the server is back within a
# fraction of a second of the database (psycopg_pool's own retry backs off to minutes).
PROBE_SECONDS = 0.25
# What a full PostgreSQL answers (SQLSTATE 53300: "sorry, too many clients already", "remaining
# connection slots are reserved...", a role's or database's connection limit). libpq gives no
# SQLSTATE for a refused connection, only the server's message.
_TOO_MANY = ("too many clients", "too many connections", "connection slots are reserved")

# Constraint name -> what the user is told when a concurrent request took the value first.
_UNIQUE = {
    "pipelines_tag_unique": "another pipeline is already tagged so: pipeline tags are unique",
    "edges_pair_unique": "these two nodes are already connected",
    "edges_slot_unique": "that input slot of the child is already taken",
}
_UNAVAILABLE = "the fusionpipe database cannot be reached right now; try again in a moment"
_BUSY = "the fusionpipe database is busy; try again in a moment"
_CONNECTING = "the fusionpipe database is busy or unreachable; retrying to connect"


def refused_for_slots(err: psycopg.OperationalError) -> bool:
    """Whether a connection was refused because PostgreSQL has no slot free: a database that is
    there and full, to wait for, not a lost one."""
    return any(text in str(err) for text in _TOO_MANY)


class CannotConnect(Unavailable):
    """No connection to the database: it is down, unreachable or full (too many clients)."""


def check_schema(dsn: str, *, migrate: bool) -> list[int]:
    """Migrate the schema (``migrate``) or refuse an outdated one; returns versions applied.

    Synchronous on purpose: it runs while the server loads, before it serves anything, or in a
    thread while it tries to connect (its own short connection, closed before the pool opens).
    """
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            if migrate:
                return schema.migrate(conn)
            schema.require_current(conn)
            return []
    except psycopg.OperationalError as err:
        raise CannotConnect(f"cannot connect to the fusionpipe database: {err}") from err


class Database:
    """Owns the async pool; opened in the extension's start hook, closed in its stop hook.

    Until ``open`` succeeds, calls fail at once with ``Unavailable``. A call that waits longer
    than ``wait_seconds`` for a connection of a busy pool fails with ``Unavailable`` (busy) and
    leaves the pool as it is. When the database is lost, calls fail at once with
    ``Unavailable`` while a background task waits for it (first calling ``restart``, given when
    this server owns the database), then replaces the pool with a fresh one.
    """

    def __init__(
        self,
        dsn: str,
        *,
        max_size: int = DEFAULT_POOL_SIZE,
        wait_seconds: float = WAIT_SECONDS,
        restart: Callable[[], None] | None = None,
        prepare_statements: bool = True,
    ) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.wait_seconds = wait_seconds
        self.restart = restart
        self.prepare_statements = prepare_statements
        self.pool = self._new_pool()
        self.opened = False
        self._recovery: asyncio.Task[None] | None = None
        self._probe: asyncio.Future[bool] | None = None

    def _new_pool(self) -> AsyncConnectionPool:
        return AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.max_size,
            open=False,
            timeout=self.wait_seconds,
            max_idle=MAX_IDLE_SECONDS,
            # No check query before each use: it would double the round trips of every call.
            # A connection PostgreSQL dropped fails its first query instead, which starts the
            # recovery below, and the recovery replaces the whole pool.
            kwargs={"connect_timeout": CONNECT_SECONDS, **self._preparing()},
        )

    def _preparing(self) -> dict[str, None]:
        # psycopg prepares a query run five times on a connection, on the backend it then has.
        # Behind a pooler in transaction mode (see pooling.py) the next transaction may get
        # another backend, where the statement does not exist; PgBouncer 1.18 does not carry
        # prepared statements across, so none are made there (``prepare_statements``).
        return {} if self.prepare_statements else {"prepare_threshold": None}

    async def open(self, timeout: float = 30) -> None:
        """Open the pool with its first connection; ``Unavailable`` (and a pool to open anew)
        when the database gave none within ``timeout``."""
        try:
            await self.pool.open(wait=True, timeout=timeout)
        except PoolTimeout as err:
            await self.pool.close()
            self.pool = self._new_pool()
            raise Unavailable(_CONNECTING) from err
        self.opened = True

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
        if not self.opened:
            raise Unavailable(_CONNECTING)
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
            # Most often every connection is in use (or PostgreSQL has no slot for another):
            # the pool is kept, the caller asked to come back. Only a database that does not
            # answer at all is lost.
            if not await self._answers_once():
                self._lost(err)
                raise Unavailable(_UNAVAILABLE) from err
            raise Unavailable(_BUSY) from err
        except psycopg.OperationalError as err:
            # Only a lost connection means the database is gone; a lock or statement timeout
            # on a live connection is the caller's business.
            if conn is None or conn.broken or conn.closed:
                self._lost(err)
                raise Unavailable(_UNAVAILABLE) from err
            raise

    async def _answers_once(self) -> bool:
        """``_answers``, asked once for all the calls whose wait ran out together."""
        if self._probe is None:
            self._probe = asyncio.ensure_future(self._answers())
            self._probe.add_done_callback(lambda _: setattr(self, "_probe", None))
        return await asyncio.shield(self._probe)

    async def _answers(self) -> bool:
        """Whether PostgreSQL answers: it takes a connection, or refuses it for want of a free
        slot (it is there, only full)."""
        try:
            conn = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=CONNECT_SECONDS)
        except psycopg.OperationalError as err:
            return refused_for_slots(err)
        await conn.close()
        return True

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
        return await self._answers()
