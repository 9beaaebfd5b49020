"""What this server executes now: the nodes it claimed, the processes (and retry pauses) it
watches for them, who killed which, the runs cancelled, and whether the server is leaving.

A kill reaches a node from its claim on: one that arrives before its process started (while
its environment is built, say) is kept, and the node never starts.

The engine, the node step and the attempts share one ``Running``; the run service asks it
through the engine's methods, never its dicts.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator

from ...runners.base import Execution

HOST = socket.gethostname()
# Between a node id and an item id in the key of an item's execution.
_ITEM = "\x00"


def job_view(jobs: dict[str | None, tuple[str, str]]) -> dict[str, str] | None:
    """What the node view says of a node's batch job (see ``Running.jobs_of``): its id and
    state ("PENDING (Resources)", "RUNNING"); of a mapped node, its job array's id and how many
    of its items are in each state ("3 PENDING, 2 RUNNING"). None when it has none."""
    if None in jobs:
        job_id, state = jobs[None]
        return {"id": job_id, "state": state}
    if not jobs:
        return None
    counts: dict[str, int] = {}
    for _, state in jobs.values():
        word = state.split(" ")[0]
        counts[word] = counts.get(word, 0) + 1
    array = min(job_id.split("_")[0] for job_id, _ in jobs.values())
    return {"id": array, "state": ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))}


def this_executor() -> str:
    """This server as runs record who executes them (``runs.executor``): host and process."""
    return f"{HOST}:{os.getpid()}"


class Running:
    def __init__(self) -> None:
        self._claimed: dict[str, str] = {}  # node id -> run id, from the claim to its end
        self._executions: dict[str, tuple[str, Execution]] = {}  # node id -> (run id, process)
        self._killed: dict[str, str] = {}  # node id -> who killed it
        self.cancelled: set[str] = set()
        # The server is stopping and leaves the nodes that outlive it running.
        self.leaving = False

    @contextlib.contextmanager
    def claimed(self, run_id: str, node_id: str) -> Iterator[None]:
        """While ``run_id`` holds the node, from its claim to its end (the database lets one
        run hold it at a time; the next may register before the last has let go)."""
        self._claimed[node_id] = run_id
        try:
            yield
        finally:
            if self._claimed.get(node_id) == run_id:
                del self._claimed[node_id]
                self._killed.pop(node_id, None)

    @contextlib.contextmanager
    def watching(
        self, run_id: str, node_id: str, execution: Execution, item_id: str | None = None
    ) -> Iterator[None]:
        """While the node's ``execution`` (of ``run_id``; of one of its items) runs here: a
        kill of the node reaches it."""
        key = node_id if item_id is None else f"{node_id}{_ITEM}{item_id}"
        self._executions[key] = (run_id, execution)
        try:
            yield
        finally:
            self._executions.pop(key, None)

    def _of_node(self, node_id: str) -> list[Execution]:
        prefix = f"{node_id}{_ITEM}"
        return [
            execution
            for key, (_, execution) in list(self._executions.items())
            if key == node_id or key.startswith(prefix)
        ]

    def jobs_of(self, node_id: str) -> dict[str | None, tuple[str, str]]:
        """The batch-scheduler jobs of the node's executions watched here, by item (None: the
        node itself): job id and the scheduler's word for it now ("PENDING (Resources)")."""
        prefix = f"{node_id}{_ITEM}"
        found: dict[str | None, tuple[str, str]] = {}
        for key, (_, execution) in list(self._executions.items()):
            job_id = getattr(execution, "job_id", None)
            if job_id and (key == node_id or key.startswith(prefix)):
                item = None if key == node_id else key[len(prefix) :]
                found[item] = (job_id, str(getattr(execution, "state", "")))
        return found

    def runs_node(self, node_id: str) -> bool:
        return node_id in self._claimed or bool(self._of_node(node_id))

    def killed_by(self, node_id: str) -> str | None:
        """Who killed the node meanwhile, if anyone (it is not to start, or to go on)."""
        return self._killed.get(node_id)

    def stopping(self, run_id: str) -> bool:
        """Whether the run is cancelled or the server leaving: start nothing more for it."""
        return run_id in self.cancelled or self.leaving

    def killer(self, node_id: str) -> str | None:
        """Who killed the node's execution that just ended (None: nobody); asked once."""
        return self._killed.pop(node_id, None)

    async def kill(self, node_id: str, by: str) -> bool:
        """Kill the node if this server runs it (or holds it, about to start it); False when
        it does not."""
        if not self.runs_node(node_id):
            return False
        self._killed[node_id] = by
        for execution in self._of_node(node_id):
            await execution.kill()
        return True

    async def cancel(self, run_id: str, by: str) -> None:
        """Schedule nothing more of the run, and kill its nodes running here."""
        self.cancelled.add(run_id)
        held = {n for n, owner in self._claimed.items() if owner == run_id}
        held |= {k.split(_ITEM)[0] for k, (owner, _) in self._executions.items() if owner == run_id}
        for node_id in sorted(held):
            await self.kill(node_id, by)

    async def leave(self) -> None:
        """The server stops: kill the nodes whose backend cannot outlive it."""
        self.leaving = True
        for key, (_, execution) in list(self._executions.items()):
            if not execution.outlives_server:
                await self.kill(key.split(_ITEM)[0], "the server stopping")
