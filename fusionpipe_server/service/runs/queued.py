"""Which items of a job array still wait in the batch scheduler's queue.

For fusionpipe an item submitted as a task of a job array (Slurm) is ``running`` from its
submission; for the user, a task Slurm keeps ``PENDING`` is not running yet. The server that
watches the array writes which of its items wait (``node_items.queued``), so that every canvas,
whichever server draws it, shows them apart in the items bar; an item's end clears its mark
(store/items.py). The executions say their scheduler's state themselves (``state``): this only
follows it, at the runner's own poll interval, and writes the changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from ...runners.base import Execution

log = logging.getLogger(__name__)

# The scheduler's word for a job that waits for its turn.
PENDING = "PENDING"


def waiting(executions: Mapping[str, Execution]) -> set[str]:
    """The items whose execution the scheduler still holds back."""
    return {
        item
        for item, execution in executions.items()
        if str(getattr(execution, "state", "")).startswith(PENDING)
    }


@asynccontextmanager
async def queue_followed(
    executions: Mapping[str, Execution],
    write: Callable[[list[str], bool], Awaitable[None]],
    runner: object,
) -> AsyncIterator[None]:
    """While inside, write (``write(items, queued)``) each item that entered or left the queue
    since the last look, at the runner's poll interval (``poll_seconds``)."""
    ended = asyncio.Event()
    every = float(getattr(runner, "poll_seconds", 1.0))

    async def follow() -> None:
        marked: set[str] = set()
        while not ended.is_set():
            now = waiting(executions)
            try:
                if now - marked:
                    await write(sorted(now - marked), True)
                if marked - now:
                    await write(sorted(marked - now), False)
                marked = now
            except Exception:  # only what the canvas shows: tried again at the next look
                log.exception("fusionpipe: could not write which items wait in the queue")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ended.wait(), every)

    task = asyncio.create_task(follow())
    try:
        yield
    finally:
        ended.set()
        await task
