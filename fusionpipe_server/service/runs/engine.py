"""The run engine: the runs this server executes, each a loop over its nodes in DAG order, in
parallel, each node handed to the node step (node_step.py) when its parents have finished; the
runs it takes back after a restart; and how it stops them.

A node executes once per fingerprint, whatever number of runs ask for it and in whatever order
they reach it (see the claim in store/runs.py). Any error after a node is claimed ends it
``failed`` with the reason in its log; nothing is left ``running``.

    RunEngine       launch, adopt, kill, cancel, leave: what the run service calls
      NodeStep      decide one node: skip, take another run's result, restore, or execute
        Attempts    try, retry, time out; watch a process taken back
      Recorder      every write about a run, fenced by its lease, with its event
      Running       what runs here now: processes, kills, cancelled runs
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from graphlib import TopologicalSorter

from ...runners.registry import Runners
from ...store.database import Database
from ...store.run_recovery import LeftRunning
from ..common import ServiceBase, Settings
from ..freshness.output_cache import OutputCache
from ..freshness.staleness import StalenessService
from .attempts import Attempts
from .environments import EnvironmentService
from .leases import Leases, TakenOver
from .mapped import Selection
from .node_step import NodeStep
from .parts import EngineParts
from .recorder import Recorder
from .running import Running, this_executor
from .slots import SlotPool

log = logging.getLogger(__name__)


class RunEngine(ServiceBase):
    def __init__(
        self,
        db: Database,
        settings: Settings,
        staleness: StalenessService,
        cache: OutputCache,
        environments: EnvironmentService,
        runners: Runners,
    ) -> None:
        super().__init__(db, settings)
        self.staleness = staleness
        self.executor = this_executor()
        self.runners = runners
        self.leases = Leases(db, self.executor, settings.run_lease_seconds)
        self.running = Running()
        self.recorder = Recorder(self.leases)
        parts = EngineParts(
            db,
            settings,
            runners,
            SlotPool(max(1, settings.max_parallel_nodes), list(settings.local_gpus)),
            staleness,
            cache,
            environments,
            self.recorder,
            self.running,
        )
        self.attempts = Attempts(parts)
        self.step = NodeStep(parts, self.attempts)
        self._tasks: dict[str, asyncio.Task[None]] = {}  # run id -> its loop
        # Node processes of runs taken back after a restart, to watch instead of start.
        self._adopted: dict[str, LeftRunning] = {}
        self._items: dict[str, dict[str, Selection]] = {}  # run id -> its items by node

    # -- what the run service asks -----------------------------------------------------------

    def launch(
        self,
        run_id: str,
        pipeline_id: str,
        requested_by: str,
        planned: list[str],
        pairs: list[tuple[str, str]],
        items: dict[str, Selection] | None = None,
    ) -> None:
        """Execute a run (recorded ``queued``) in the background: ``planned`` nodes, with
        ``pairs`` (parent, child) among them; of the mapped nodes in ``items``, only those
        items (a list of ids, or "failed")."""
        self.recorder.requested_by[run_id] = requested_by
        self._items[run_id] = items or {}
        self._tasks[run_id] = asyncio.create_task(
            self._execute(run_id, pipeline_id, planned, pairs)
        )
        self.leases.keep(self._tasks)

    def adopt(self, executions: list[LeftRunning]) -> None:
        """Node processes a previous server started, to watch when their runs are launched."""
        for execution in executions:
            self._adopted[execution.node_id] = execution

    def executes(self, run_id: str) -> bool:
        return run_id in self._tasks

    def runs_node(self, node_id: str) -> bool:
        return self.running.runs_node(node_id)

    @property
    def busy(self) -> bool:
        """Whether this server executes a run now."""
        return bool(self._tasks)

    async def wait(self, run_id: str, timeout: float | None = None) -> None:
        """Until the run has ended, if this server executes it, or ``timeout`` seconds. Past
        the timeout the run goes on: the shield keeps it from being cancelled."""
        task = self._tasks.get(run_id)
        if task is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout)

    async def kill_here(self, node_id: str, username: str) -> bool:
        """Kill the node if this server runs it; False when it does not."""
        return await self.running.kill(node_id, username)

    async def cancel_here(self, run_id: str, username: str) -> None:
        await self.running.cancel(run_id, username)

    async def leave(self) -> None:
        """The server is stopping: kill the nodes whose backend cannot outlive it, and stop
        scheduling; the rest run on, for the next server to take back."""
        await self.running.leave()
        await asyncio.sleep(0.1)  # let those nodes record how they ended
        await self._stop_loops(cancel=True)

    async def stop(self) -> None:
        """The server is stopping and its runs end with it: cancel each, let each close."""
        for run_id in list(self._tasks):
            await self.running.cancel(run_id, "the server stopping")
        await self._stop_loops(cancel=False)

    async def _stop_loops(self, *, cancel: bool) -> None:
        tasks = list(self._tasks.values())
        for task in tasks if cancel else ():
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.leases.stop()
        self.runners.shutdown()

    # -- a run -------------------------------------------------------------------------------

    async def _execute(
        self, run_id: str, pipeline_id: str, planned: list[str], pairs: list[tuple[str, str]]
    ) -> None:
        running: dict[asyncio.Task[bool], str] = {}
        cancelled = self.running.cancelled
        try:
            await self.recorder.run_status(run_id, pipeline_id, "running")
            sorter: TopologicalSorter[str] = TopologicalSorter({n: () for n in planned})
            for parent, child in pairs:
                sorter.add(child, parent)
            sorter.prepare()
            failed = False
            while sorter.is_active() and run_id not in cancelled:
                for node_id in sorter.get_ready():
                    task = asyncio.create_task(self._node(run_id, pipeline_id, node_id))
                    running[task] = node_id
                if not running:
                    break  # what is left waits on a failed node
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    node_id = running.pop(task)
                    if task.result():
                        sorter.done(node_id)
                    else:
                        failed = True
            if running:  # cancelled: let the killed nodes report
                await asyncio.wait(running)
            status = "cancelled" if run_id in cancelled else "failed" if failed else "completed"
            reason = "the run was cancelled" if run_id in cancelled else "a parent did not complete"
            await self.recorder.close_run(run_id, pipeline_id, status, reason)
        except (asyncio.CancelledError, TakenOver) as stop:
            # The server is stopping, or another server took the run over: the run stays
            # open, for the next server to take back or for the one holding it now.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if run_id in self.leases.lost:
                log.warning("fusionpipe: run %s left to %s", run_id, self.leases.lost[run_id])
            elif isinstance(stop, asyncio.CancelledError):
                raise
        except Exception:
            log.exception("fusionpipe: run %s stopped on an error", run_id)
            try:
                await self.recorder.close_run(
                    run_id, pipeline_id, "failed", "the run stopped on an error"
                )
            except Exception:
                log.exception("fusionpipe: could not close run %s", run_id)
        finally:
            self._tasks.pop(run_id, None)
            self._items.pop(run_id, None)
            self.recorder.requested_by.pop(run_id, None)
            cancelled.discard(run_id)
            self.leases.lost.pop(run_id, None)
            # What the run changed shows on every canvas, with its reasons.
            self.staleness.request(pipelines=[pipeline_id])

    async def _node(self, run_id: str, pipeline_id: str, node_id: str) -> bool:
        adopted = self._adopted.pop(node_id, None)
        if adopted is not None:
            return await self.attempts.watch_adopted(adopted, self.executor)
        selection = self._items.get(run_id, {}).get(node_id)
        return await self.step.do(run_id, pipeline_id, node_id, selection)
