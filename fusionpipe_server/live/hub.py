"""Live events: one LISTEN connection per server fans database NOTIFYs out to every websocket.

Changes made by any fusionpipe server on the same database (another user's, on a shared
JupyterHub) arrive here too, because every change is announced with NOTIFY in its transaction.
Its connection goes to ``events_database_url``: a LISTEN belongs to one PostgreSQL connection,
which a pooler in transaction mode (PgBouncer) would hand to other clients between statements.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import psycopg

from ..store import events as store_events
from .background import cancel

log = logging.getLogger(__name__)

Subscriber = Callable[[str], None]
# How long starting waits for the LISTEN connection before it lets the server go on without.
READY_SECONDS = 10


class EventHub:
    """Listens on the database and calls every subscriber with each event's JSON text."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=READY_SECONDS)
        except asyncio.TimeoutError:
            # A full PostgreSQL refuses the connection for now: the server starts anyway and
            # the listener goes on trying (see _listen_forever).
            log.warning("fusionpipe: live events not connected yet; retrying in the background")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _listen_forever(self) -> None:
        # A dropped connection (database restart) is retried; events sent meanwhile are lost,
        # so clients are told to reload everything they show.
        delay = 0.5
        while True:
            try:
                await self._listen()
            except psycopg.OperationalError as err:
                log.warning("fusionpipe: event listener lost the database (%s), retrying", err)
                self._publish('{"event": "resync"}')
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
            await store_events.listen(conn)
            self._ready.set()
            async for notify in conn.notifies():
                self._publish(notify.payload)

    def _publish(self, payload: str) -> None:
        started = time.perf_counter()
        for subscriber in list(self.subscribers):
            try:
                subscriber(payload)
            except Exception:
                log.exception("fusionpipe: an event subscriber failed; dropping it")
                self.unsubscribe(subscriber)
        log.debug("fusionpipe: event fanned out in %.2f ms", (time.perf_counter() - started) * 1e3)
