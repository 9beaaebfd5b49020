"""Runs: plan what a request covers, start it, report on it, kill and cancel.

Requests return at once; the run goes on in a task of this server (see engine.py). A run
plans every node it covers: the ones already up to date, with nothing upstream to run, are
skipped at once; the others are decided when their parents have finished.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from ...core import dag
from ...errors import Conflict, Invalid, NotFound
from ...folders import logs as run_logs
from ...folders import node_folders as folders
from ...models import ACTIVE_RUN_STATUSES, Run, Status, new_id
from ...store import events
from ...store import items as item_store
from ...store import nodes as node_store
from ...store import runs as run_store
from ..common import ServiceBase
from ..graph.edits import load_graph
from .engine import RunEngine
from .mapped import Selection
from .recovery import take_back

# How long a kill asked of another server waits to see the node end.
REMOTE_KILL_SECONDS = 5.0
# How long a cancel waits for its run to end before answering with the run as it is: a node
# still building its environment only stops once the build is over.
CANCEL_WAIT_SECONDS = 5.0


class RunService(ServiceBase):
    def __init__(self, engine: RunEngine) -> None:
        super().__init__(engine.db, engine.settings)
        self.staleness = engine.staleness
        self.engine = engine
        self._pending: set[asyncio.Future[Any]] = set()

    @property
    def executor(self) -> str:
        return self.engine.executor

    # -- starting ----------------------------------------------------------------------------

    async def start(
        self,
        requested_by: str,
        pipeline_id: str,
        *,
        node_ids: list[str] | None = None,
        until: str | None = None,
        items: dict[str, Selection] | None = None,
    ) -> Run:
        """Plan and start a run: the whole pipeline, ``until`` a node (it and its ancestors),
        the selected ``node_ids`` (in DAG order among themselves), or some ``items`` of mapped
        nodes (ids, or "failed") and whatever reads those nodes."""
        if node_ids is not None and until is not None:
            raise Invalid("give node_ids or until, not both")
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            graph = await load_graph(unit, pipeline_id)
            for node_id in [*(node_ids or []), *([until] if until else []), *(items or {})]:
                graph.member(node_id, pipeline_id)
            if items:
                items = await _checked_items(unit.conn, graph, items)
        # Files may have changed since the last check: plan from what they hold now.
        assessed = await self.staleness.check(list(graph.nodes))
        scope = "nodes" if node_ids is not None or items else "until" if until else "pipeline"
        wanted = dag.run_scope(
            list(graph.nodes),
            graph.pairs,
            until=until,
            selected=node_ids,
            items_of=list(items) if items and node_ids is None and until is None else None,
        )
        order = dag.topological_order([n for n in graph.nodes if n in wanted], graph.pairs)
        parents: dict[str, list[str]] = {}
        for parent, child in graph.pairs:
            parents.setdefault(child, []).append(parent)
        planned: list[str] = []
        skipped: dict[str, str] = {}
        for node_id in order:
            node = graph.nodes[node_id]
            status = assessed[node_id].status if node_id in assessed else Status(node.status)
            upstream_runs = any(p in planned for p in parents.get(node_id, []))
            asked = bool(items) and node_id in (items or {})
            if status == Status.COMPLETED and not upstream_runs and not asked:
                skipped[node_id] = "up to date"
            elif node.locked:
                skipped[node_id] = "locked"
            elif node.referenced:
                skipped[node_id] = "shared with other pipelines (referenced): detach it to run it"
            else:
                planned.append(node_id)
        run_id = new_id("run")
        async with self.db.transaction() as conn:
            await run_store.insert_run(
                conn,
                run_id,
                pipeline_id,
                requested_by,
                scope,
                self.executor,
                planned,
                skipped,
                self.settings.run_lease_seconds,
            )
            await events.announce(
                conn,
                "run.updated",
                run_id=run_id,
                pipeline_id=pipeline_id,
                status="queued",
                requested_by=requested_by,
            )
        pairs = [(p, c) for p, c in graph.pairs if p in planned and c in planned]
        self.engine.launch(run_id, pipeline_id, requested_by, planned, pairs, items)
        return await self.get(run_id)

    async def get(self, run_id: str) -> Run:
        async with self.db.transaction() as conn:
            run = await run_store.get_run(conn, run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id!r}")
        return run

    async def history(
        self, *, pipeline_id: str | None = None, node_id: str | None = None, limit: int = 50
    ) -> list[Run]:
        async with self.db.transaction() as conn:
            if pipeline_id is not None:
                await self.pipeline(conn, pipeline_id)
            return await run_store.list_runs(
                conn, pipeline_id=pipeline_id, node_id=node_id, limit=limit
            )

    async def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """The run once it has finished (for the CLI and tests), or as it is after
        ``timeout`` seconds."""
        await self.engine.wait(run_id, timeout)
        return await self.get(run_id)

    # -- stopping ----------------------------------------------------------------------------

    async def kill(self, username: str, pipeline_id: str, node_id: str) -> dict[str, Any]:
        """Kill a running node and its whole process tree, wherever it runs, and say what
        happened."""
        async with self.db.transaction() as conn:
            await self.pipeline(conn, pipeline_id)
            row = await node_store.member(conn, pipeline_id, node_id)
            if row is None:
                raise NotFound(f"pipeline {pipeline_id} has no node {node_id!r}")
            if row.status != Status.RUNNING.value:
                raise Conflict(f"node {row.tag!r} ({node_id}) is not running")
            if not self.engine.runs_node(node_id):
                # Another server (another user's) runs it: it listens for this.
                await events.announce(conn, "node.kill", node_id=node_id, by=username)
        if await self.engine.kill_here(node_id, username):
            return {"node_id": node_id, "killed": True}
        ended = await self._ended_within(node_id, REMOTE_KILL_SECONDS)
        return {
            "node_id": node_id,
            "killed": ended,
            "message": (
                "the server running it killed it"
                if ended
                else "asked the server running it; the node has not ended yet"
            ),
        }

    async def _ended_within(self, node_id: str, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            async with self.db.transaction() as conn:
                if await node_store.status_of(conn, node_id) != Status.RUNNING.value:
                    return True
            await asyncio.sleep(0.1)
        return False

    async def cancel(self, username: str, run_id: str) -> Run:
        """Stop scheduling a run and kill its running nodes."""
        run = await self.get(run_id)
        if run.status not in ACTIVE_RUN_STATUSES:
            raise Conflict(f"run {run_id} has already ended ({run.status})")
        if not self.engine.executes(run_id):
            async with self.db.transaction() as conn:
                await events.announce(conn, "run.cancel", run_id=run_id, by=username)
            return run
        await self.engine.cancel_here(run_id, username)
        return await self.wait(run_id, CANCEL_WAIT_SECONDS)

    def on_event(self, payload: str) -> None:
        """Kill and cancel requests made on other servers, for what this server runs."""
        event = json.loads(payload)
        if event.get("event") == "node.kill" and self.engine.runs_node(event.get("node_id", "")):
            self._background(self.engine.kill_here(event["node_id"], event.get("by", "?")))
        elif event.get("event") == "run.cancel" and self.engine.executes(event.get("run_id", "")):
            self._background(self.engine.cancel_here(event["run_id"], event.get("by", "?")))

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        # The loop keeps only weak references to tasks: hold them until they are done.
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def shutdown(self) -> None:
        """Server stopping. Local node processes go on (the next server takes their runs
        back) unless ``runs_outlive_server`` is off; everything else is killed, and those runs
        are closed."""
        if self.settings.runs_outlive_server:
            await self.engine.leave()
        else:
            await self.engine.stop()

    @property
    def busy(self) -> bool:
        """Whether this server executes a run now (it must then not be culled as idle)."""
        return self.engine.busy

    async def reconcile(self) -> list[str]:
        """On start: take back the runs of a server of this host that is gone, and fail what
        cannot be taken back (see recovery.py). Returns the nodes marked failed."""
        return await take_back(self.db, self.settings, self.engine)

    # -- logs --------------------------------------------------------------------------------

    async def log_text(
        self, node_id: str, run_id: str | None, tail: int | None
    ) -> dict[str, object]:
        """The log of a node's run (its latest when no run is named), or its last lines."""
        async with self.db.transaction() as conn:
            row = await node_store.node_row(conn, node_id)
            if row is None:
                raise NotFound(f"no node with id {node_id!r}")
            if run_id is None:
                runs = await run_store.list_runs(conn, node_id=node_id, limit=1)
                run_id = runs[0].id if runs else None
        if run_id is None:
            return {"node_id": node_id, "run_id": None, "content": ""}
        path = run_logs.log_path(folders.node_path(self.settings.data_path, row[1]), run_id)
        text = await asyncio.to_thread(run_logs.read_tail, path, tail)
        return {"node_id": node_id, "run_id": run_id, "content": text}


# The most item ids one run may name.
MAX_ASKED_ITEMS = 100_000


async def _checked_items(
    conn: Any, graph: Any, items: dict[str, Selection]
) -> dict[str, Selection]:
    """The items a run asks for, each known to its node; a 400 names what is not."""
    checked: dict[str, Selection] = {}
    for node_id, asked in items.items():
        node = graph.nodes[node_id]
        if asked == "failed":
            if not await item_store.failed_ids(conn, node_id):
                raise Invalid(f"items: node {node.tag!r} ({node_id}) has no failed items")
            checked[node_id] = "failed"
            continue
        if not isinstance(asked, list) or not asked or len(asked) > MAX_ASKED_ITEMS:
            raise Invalid(
                f'items: give node {node_id} a list of 1 to {MAX_ASKED_ITEMS} item ids, or "failed"'
            )
        wanted = list(dict.fromkeys(asked))
        known = await item_store.existing(conn, node_id, wanted)
        unknown = [item_id for item_id in wanted if item_id not in known]
        if unknown:
            shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise Invalid(f"items: node {node.tag!r} ({node_id}) has no item {shown}")
        checked[node_id] = wanted
    return checked
