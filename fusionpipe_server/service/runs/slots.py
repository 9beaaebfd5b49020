"""What local node processes hold at once: CPU slots and whole GPUs, handed out fairly.

``max_parallel_nodes`` is the number of CPU slots; a node holds as many as its
``resources.cpus`` (one by default), and the GPUs its ``resources.gpus`` asks for, never a GPU
another node holds. Requests are served in arrival order, so a large one is not starved by a
stream of small ones. Pure asyncio: no I/O.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    cpus: float = 1.0
    gpus: int = 0


class SlotPool:
    def __init__(self, cpus: float, gpus: list[str]) -> None:
        self.cpus = cpus
        self.gpus = list(gpus)
        self._free_cpus = cpus
        self._free_gpus = list(gpus)
        self._queue: deque[tuple[Need, asyncio.Future[list[str]]]] = deque()

    def problem(self, need: Need) -> str | None:
        """Why ``need`` can never be met here (None when it can): it would wait forever."""
        if need.gpus > len(self.gpus):
            have = f"{len(self.gpus)} GPU{'s' if len(self.gpus) != 1 else ''}"
            return (
                f"it asks for {need.gpus} GPU{'s' if need.gpus != 1 else ''} and local runs "
                f"have {have} (FusionpipeApp.local_gpus)"
            )
        if need.cpus > self.cpus:
            return (
                f"it asks for {need.cpus:g} CPUs and local runs have {self.cpus:g} CPU slots "
                "(FusionpipeApp.max_parallel_nodes; fusionpipe run --parallel)"
            )
        return None

    @asynccontextmanager
    async def hold(self, need: Need) -> AsyncIterator[list[str]]:
        """Wait for ``need`` (which ``problem`` must have accepted) and hold it; yields the
        GPUs held."""
        assert self.problem(need) is None
        granted: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._queue.append((need, granted))
        self._serve()
        try:
            gpus = await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._give_back(need, granted.result())
            else:
                self._queue = deque(entry for entry in self._queue if entry[1] is not granted)
                self._serve()
            raise
        try:
            yield gpus
        finally:
            self._give_back(need, gpus)

    def _give_back(self, need: Need, gpus: list[str]) -> None:
        # Rounded: fractional CPUs (0.1 + 0.2...) must add back up to the total exactly.
        self._free_cpus = round(self._free_cpus + need.cpus, 6)
        self._free_gpus.extend(gpus)
        self._serve()

    def _serve(self) -> None:
        """Grant waiting requests in order while the first one fits."""
        while self._queue:
            need, granted = self._queue[0]
            if granted.cancelled():
                self._queue.popleft()
                continue
            if need.cpus > self._free_cpus or need.gpus > len(self._free_gpus):
                return
            self._queue.popleft()
            self._free_cpus = round(self._free_cpus - need.cpus, 6)
            gpus = sorted(self._free_gpus[: need.gpus], key=self.gpus.index)
            del self._free_gpus[: need.gpus]
            granted.set_result(gpus)
