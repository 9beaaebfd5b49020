"""A server's hold on its runs: a lease it renews while it works, and the fence on its writes.

A server whose lease lapsed (frozen, or cut off from the database) may have its runs taken back
by another server (recovery.py). From then on every write it attempts for those runs is refused:
the run's ``executor`` column is the fencing token, read share-locked in the same transaction
as the write, so a take-over cannot slip in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from psycopg import AsyncConnection

from ...live.background import cancel
from ...store import run_recovery
from ...store.database import Database

log = logging.getLogger(__name__)


class TakenOver(Exception):
    """Another server holds the run now (this one's lease lapsed): nothing more is written
    for it here, and its node processes are left to the new holder."""

    def __init__(self, run_id: str, holder: str) -> None:
        super().__init__(f"run {run_id} was taken over by the server {holder}")
        self.holder = holder


class Leases:
    """The leases of the runs one server (``executor``) executes."""

    def __init__(self, db: Database, executor: str, seconds: float) -> None:
        self.db = db
        self.executor = executor
        self.seconds = seconds
        self.lost: dict[str, str] = {}  # run id -> the server that took it over
        self._renewing: asyncio.Task[None] | None = None

    def keep(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        """Renew the leases of the runs in ``tasks`` (run id -> its task) while there are any;
        a run taken over meanwhile has its task cancelled, with no write."""
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(tasks))

    async def _renew(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        while tasks:
            await asyncio.sleep(self.seconds / 3)
            mine = list(tasks)
            try:
                async with self.db.transaction() as conn:
                    held = await run_recovery.renew_leases(conn, self.executor, mine, self.seconds)
            except Exception as err:  # an outage: try again, the lease may still hold
                log.warning("fusionpipe: could not renew the lease of runs: %s", err)
                continue
            for run_id in set(mine) - held:
                task = tasks.get(run_id)
                if task is not None and run_id not in self.lost:
                    log.warning("fusionpipe: run %s was taken over by another server", run_id)
                    self.lost[run_id] = "another server"
                    task.cancel()

    @contextlib.asynccontextmanager
    async def fenced(self, run_id: str) -> AsyncIterator[AsyncConnection]:
        """A transaction for writes about a run, refused (TakenOver) unless this server still
        holds the run."""
        async with self.db.transaction() as conn:
            holder = await run_recovery.holds(conn, run_id, self.executor)
            if holder is not None:
                self.lost.setdefault(run_id, holder)
                raise TakenOver(run_id, holder)
            yield conn

    async def stop(self) -> None:
        """The server is stopping: its runs' leases are no longer renewed."""
        await cancel(self._renewing)
