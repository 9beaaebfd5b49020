"""The connection pool; each ``transaction()`` is one PostgreSQL transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool

from ..errors import Unavailable
from . import schema


def check_schema(dsn: str, *, migrate: bool) -> list[int]:
    """Migrate the schema (``migrate``) or refuse an outdated one; returns versions applied.

    Synchronous on purpose: it runs once while the server loads, before it serves anything.
    """
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if migrate:
                return schema.migrate(conn)
            schema.require_current(conn)
            return []
    except psycopg.OperationalError as err:
        raise Unavailable(f"cannot connect to the fusionpipe database: {err}") from err


class Database:
    """Owns the async pool; opened in the extension's start hook, closed in its stop hook."""

    def __init__(self, dsn: str, *, max_size: int = 10) -> None:
        self.dsn = dsn
        self.pool = AsyncConnectionPool(dsn, min_size=1, max_size=max_size, open=False)

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        async with self.pool.connection() as conn:
            yield conn
