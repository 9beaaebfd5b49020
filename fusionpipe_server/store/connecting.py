"""Connecting whatever the database's load: a server that gets no connection at start tries
again with backoff, saying why in its log, and serves the lab meanwhile (its REST calls answer
503 with Retry-After until it is connected). It never gives up."""

from __future__ import annotations

import asyncio
import logging

from ..errors import Unavailable
from .database import Database, check_schema

FIRST_DELAY = 0.5
MAX_DELAY = 10.0
# How long one attempt waits for the pool's first connection.
OPEN_SECONDS = 10.0


async def connect(database: Database, log: logging.Logger) -> None:
    """Check the schema, then open ``database``'s pool, until both succeed.

    The check comes first for what it tells: its connection error names the cause ("too many
    clients already", "Connection refused"), and an outdated schema is said as such."""
    delay = FIRST_DELAY
    while True:
        try:
            await asyncio.to_thread(check_schema, database.dsn, migrate=False)
            await database.open(timeout=OPEN_SECONDS)
            log.info("fusionpipe: connected to the database")
            return
        except Unavailable as err:
            log.warning(
                "fusionpipe: database busy or unreachable, retrying in %.1f s: %s",
                delay,
                err.message,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
