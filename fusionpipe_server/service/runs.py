"""Runs: plan which nodes to execute, run them in DAG order in parallel, kill, cancel, recover.

Requests return at once; the run goes on in a task of this server. Independent nodes run in
parallel up to ``max_parallel_nodes``; descendants of a failed node are not scheduled while
independent branches go on. Every transition is written first, then announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import Coroutine
from datetime import datetime, timezone
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import fusionpipe

from .. import dag
from ..errors import Conflict, FusionpipeError, Invalid, NotFound
from ..models import NodeKind, Run, Status, new_id
from ..nodes import environments, folders, kernels, parameters
from ..nodes import logs as run_logs
from ..processes import is_alive
from ..runners.base import Execution, NodeJob, NodeRunner
from ..runners.commands import node_command
from ..runners.local import LocalRunner
from ..runners.node_environment import node_environment
from ..runners.ray import RayRunner
from ..store import events
from ..store import nodes as node_store
from ..store import runs as run_store
from ..store.database import Database
from .common import ServiceBase, Settings, Unit
from .graph import load_graph, write_identities

log = logging.getLogger(__name__)

HOST = socket.gethostname()


class RunService(ServiceBase):
    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db, settings)
        self.executor = f"{HOST}:{os.getpid()}"
        self.ray = RayRunner(settings.ray_address, settings.max_parallel_nodes)
        self.runners: dict[str, NodeRunner] = {"local": LocalRunner(), "ray": self.ray}
        self._slots = asyncio.Semaphore(max(1, settings.max_parallel_nodes))
        self._executions: dict[str, tuple[str, Execution]] = {}  # node id -> (run id, process)
        self._tasks: dict[str, asyncio.Task[None]] = {}  # run id -> scheduling task
        self._cancelled: set[str] = set()
        self._killed: dict[str, str] = {}  # node id -> who killed it
        self._pending: set[asyncio.Future[Any]] = set()

    # -- starting ----------------------------------------------------------------------------

    async def start(
        self,
        requested_by: str,
        pipeline_id: str,
        *,
        node_ids: list[str] | None = None,
        until: str | None = None,
    ) -> Run:
        """Plan and start a run: the whole pipeline, ``until`` a node (it and its ancestors),
        or the selected ``node_ids`` (in DAG order among themselves)."""
        if node_ids is not None and until is not None:
            raise Invalid("give node_ids or until, not both")
        run_id = new_id("run")
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            graph = await load_graph(unit, pipeline_id)
            for node_id in [*(node_ids or []), *([until] if until else [])]:
                graph.member(node_id, pipeline_id)
            scope = "nodes" if node_ids is not None else "until" if until else "pipeline"
            wanted = dag.run_scope(list(graph.nodes), graph.pairs, until=until, selected=node_ids)
            order = dag.topological_order([n for n in graph.nodes if n in wanted], graph.pairs)
            planned, skipped = [], {}
            for node_id in order:
                node = graph.nodes[node_id]
                if node.status == Status.RUNNING.value:
                    raise Conflict(f"node {node.tag!r} ({node.id}) is already running")
                if node.status == Status.COMPLETED.value:
                    skipped[node_id] = "already completed"
                elif node.locked:
                    skipped[node_id] = "locked"
                elif node.referenced:
                    skipped[node_id] = "shared with other pipelines (referenced)"
                else:
                    planned.append(node_id)
            await run_store.insert_run(
                unit.conn,
                run_id,
                pipeline_id,
                requested_by,
                scope,
                self.executor,
                planned,
                skipped,
            )
            await events.announce(
                unit.conn, "run.updated", run_id=run_id, pipeline_id=pipeline_id, status="queued"
            )
        pairs = [(p, c) for p, c in graph.pairs if p in planned and c in planned]
        self._tasks[run_id] = asyncio.create_task(
            self._execute(run_id, pipeline_id, planned, pairs)
        )
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

    async def wait(self, run_id: str) -> Run:
        """The run once it has finished (for the CLI and tests)."""
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.shield(task)
        return await self.get(run_id)

    # -- executing ---------------------------------------------------------------------------

    async def _execute(
        self, run_id: str, pipeline_id: str, planned: list[str], pairs: list[tuple[str, str]]
    ) -> None:
        try:
            await self._set_run(run_id, pipeline_id, "running")
            sorter: TopologicalSorter[str] = TopologicalSorter({n: () for n in planned})
            for parent, child in pairs:
                sorter.add(child, parent)
            sorter.prepare()
            running: dict[asyncio.Task[bool], str] = {}
            failed = False
            while sorter.is_active() and run_id not in self._cancelled:
                for node_id in sorter.get_ready():
                    task = asyncio.create_task(self._run_node(run_id, pipeline_id, node_id))
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
            cancelled = run_id in self._cancelled
            status = "cancelled" if cancelled else "failed" if failed else "completed"
            reason = "the run was cancelled" if cancelled else "a parent did not complete"
            async with self.db.transaction() as conn:
                await run_store.close_run(conn, run_id, status, reason)
                await events.announce(
                    conn, "run.updated", run_id=run_id, pipeline_id=pipeline_id, status=status
                )
        except Exception:
            log.exception("fusionpipe: run %s stopped on an error", run_id)
            with contextlib.suppress(Exception):
                await self._set_run(run_id, pipeline_id, "failed", closing=True)
        finally:
            self._tasks.pop(run_id, None)
            self._cancelled.discard(run_id)

    async def _set_run(
        self, run_id: str, pipeline_id: str, status: str, *, closing: bool = False
    ) -> None:
        async with self.db.transaction() as conn:
            if closing:
                await run_store.close_run(conn, run_id, status, "the run stopped on an error")
            else:
                await run_store.set_run_status(conn, run_id, status)
            await events.announce(
                conn, "run.updated", run_id=run_id, pipeline_id=pipeline_id, status=status
            )

    async def _run_node(self, run_id: str, pipeline_id: str, node_id: str) -> bool:
        """Run one node; True when it completed."""
        async with self._slots:
            if run_id in self._cancelled:
                return False
            claimed = await self._claim(run_id, pipeline_id, node_id)
            if claimed is None:
                return False
            kind, folder, runner, tag = claimed
            log_path = folder / "logs" / f"{run_id}.log"
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            _append(log_path, f"fusionpipe: run {run_id}, node {node_id} ({kind.value}), {stamp}\n")
            env = environments.environment(folder)
            if env.state in ("missing", "stale"):
                if not await environments.build(env, log_path, self.settings.uv_cache_dir):
                    why = "its environment could not be built (see the log)"
                    await self._finish(run_id, pipeline_id, node_id, None, why)
                    return False
                # The node's kernel now runs on its own environment.
                kernels.write_kernelspec(self.settings.data_path, node_id, tag, folder)
            job = self._job(run_id, node_id, kind, folder, log_path, env)
            try:
                execution = await runner.start(job)
            except (OSError, ValueError, FusionpipeError) as err:
                _append(job.log_path, f"fusionpipe: could not start the node: {err}\n")
                await self._finish(run_id, pipeline_id, node_id, None, f"could not start: {err}")
                return False
            self._executions[node_id] = (run_id, execution)
            async with self.db.transaction() as conn:
                await run_store.node_started(
                    conn, run_id, node_id, runner.name, HOST, execution.pid
                )
            try:
                code = await execution.wait()
            finally:
                self._executions.pop(node_id, None)
            killer = self._killed.pop(node_id, None)
            reason = f"killed by {killer}" if killer else "" if code == 0 else f"exit code {code}"
            _append(
                job.log_path,
                f"\nfusionpipe: {'completed' if code == 0 and not killer else reason}\n",
            )
            return await self._finish(
                run_id, pipeline_id, node_id, code, reason, killed=bool(killer)
            )

    async def _claim(
        self, run_id: str, pipeline_id: str, node_id: str
    ) -> tuple[NodeKind, Path, NodeRunner, str] | None:
        """Atomically mark the node running, or record why it cannot start."""
        async with self.unit() as unit:
            waiting_on = await node_store.unfinished_parents(unit.conn, node_id)
            previous = None if waiting_on else await run_store.claim_node(unit.conn, node_id)
            if previous is None:
                why = (
                    f"parent(s) not completed: {', '.join(waiting_on)}"
                    if waiting_on
                    else "its status changed before it could start"
                )
                await run_store.node_finished(unit.conn, run_id, node_id, "skipped", reason=why)
                return None
            row = await node_store.node_row(unit.conn, node_id)
            assert row is not None
            kind, relative, tag = row
            # Running again invalidates what the node made before, and what was made from it.
            statuses, below = await node_store.downstream(unit.conn, [node_id])
            typed = {n: Status(s) for n, s in statuses.items()}
            changes = dag.stale_descendants(typed, below)
            await node_store.set_statuses(unit.conn, {n: s.value for n, s in changes.items()})
            identities = await node_store.identities(unit.conn, [node_id])
            await events.announce(
                unit.conn,
                "node.status",
                node_id=node_id,
                status="running",
                run_id=run_id,
                pipeline_id=pipeline_id,
            )
            if changes:
                await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
        folder = folders.node_path(self.settings.data_path, relative)
        if previous in (Status.STALEDATA.value, Status.FAILED.value):
            folders.clear_outputs(folder)
        write_identities(self.settings.data_path, identities)
        mode = parameters.read_parameters_or_empty(folder).get(
            "run_mode", self.settings.default_run_mode
        )
        return NodeKind(kind), folder, self.runners[mode], tag

    def _job(
        self,
        run_id: str,
        node_id: str,
        kind: NodeKind,
        folder: Path,
        log_path: Path,
        env: environments.Environment,
    ) -> NodeJob:
        variables = {
            **node_environment(os.environ),
            "FUSIONPIPE_NODE_FOLDER": str(folder),
            "FUSIONPIPE_NODE_ID": node_id,
            "FUSIONPIPE_RUN_ID": run_id,
            "PYTHONUNBUFFERED": "1",
            # Notebooks run on the node's own kernel, found among the node kernels.
            "FUSIONPIPE_KERNEL": kernels.kernel_name(node_id),
            "JUPYTER_PATH": os.pathsep.join(
                filter(
                    None,
                    [
                        str(kernels.kernels_dir(self.settings.data_path).parent),
                        os.environ.get("JUPYTER_PATH", ""),
                    ],
                )
            ),
        }
        python = sys.executable
        if env.state == "ready":
            python = str(env.venv / "bin" / "python")
            variables["VIRTUAL_ENV"] = str(env.venv)
            variables["PATH"] = os.pathsep.join([str(env.venv / "bin"), os.environ.get("PATH", "")])
        argv = node_command(
            kind,
            code_dir=folder / "code",
            executed_notebook=folder / "reports" / f"main-{run_id}.ipynb",
            matlab_helpers=fusionpipe.matlab_path(),
            matlab_runner=self.settings.matlab_runner_path,
            python=python,
        )
        return NodeJob(run_id, node_id, argv, folder / "code", variables, log_path)

    async def _finish(
        self,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        code: int | None,
        reason: str,
        *,
        killed: bool = False,
    ) -> bool:
        ok = code == 0 and not killed
        status = Status.COMPLETED if ok else Status.FAILED
        async with self.db.transaction() as conn:
            await node_store.finish_running(conn, node_id, status.value)
            await run_store.node_finished(
                conn, run_id, node_id, status.value, exit_code=code, reason=reason
            )
            await events.announce(
                conn,
                "node.status",
                node_id=node_id,
                status=status.value,
                run_id=run_id,
                pipeline_id=pipeline_id,
            )
        return ok

    # -- stopping ----------------------------------------------------------------------------

    async def kill(self, username: str, pipeline_id: str, node_id: str) -> None:
        """Kill a running node and its whole process tree, wherever it runs."""
        async with self.db.transaction() as conn:
            await self.pipeline(conn, pipeline_id)
            row = await node_store.member(conn, pipeline_id, node_id)
            if row is None:
                raise NotFound(f"pipeline {pipeline_id} has no node {node_id!r}")
            if row.status != Status.RUNNING.value:
                raise Conflict(f"node {row.tag!r} ({node_id}) is not running")
            if node_id not in self._executions:
                # Another server (another user's) runs it: it listens for this.
                await events.announce(conn, "node.kill", node_id=node_id, by=username)
                return
        await self._kill_here(node_id, username)

    async def _kill_here(self, node_id: str, username: str) -> bool:
        entry = self._executions.get(node_id)
        if entry is None:
            return False
        self._killed[node_id] = username
        await entry[1].kill()
        return True

    async def cancel(self, username: str, run_id: str) -> Run:
        """Stop scheduling a run and kill its running nodes."""
        run = await self.get(run_id)
        if run.status not in ("queued", "running"):
            raise Conflict(f"run {run_id} has already ended ({run.status})")
        if run_id not in self._tasks:
            async with self.db.transaction() as conn:
                await events.announce(conn, "run.cancel", run_id=run_id, by=username)
            return run
        await self._cancel_here(run_id, username)
        return await self.wait(run_id)

    async def _cancel_here(self, run_id: str, username: str) -> None:
        self._cancelled.add(run_id)
        for node_id, (owner_run, _) in list(self._executions.items()):
            if owner_run == run_id:
                await self._kill_here(node_id, username)

    def on_event(self, payload: str) -> None:
        """Kill and cancel requests made on other servers, for what this server runs."""
        event = json.loads(payload)
        if event.get("event") == "node.kill" and event.get("node_id") in self._executions:
            self._background(self._kill_here(event["node_id"], event.get("by", "?")))
        elif event.get("event") == "run.cancel" and event.get("run_id") in self._tasks:
            self._background(self._cancel_here(event["run_id"], event.get("by", "?")))

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        # The loop keeps only weak references to tasks: hold them until they are done.
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def shutdown(self) -> None:
        """Server stopping: kill what runs here; the runs are closed as failed."""
        for run_id in list(self._tasks):
            await self._cancel_here(run_id, "the server stopping")
        for task in list(self._tasks.values()):
            with contextlib.suppress(Exception):
                await task
        self.ray.shutdown()

    # -- recovering --------------------------------------------------------------------------

    async def reconcile(self) -> list[str]:
        """On start: nodes left ``running`` by processes that are gone become ``failed`` (the
        reason goes to their log) and runs whose server is gone are closed. Returns the nodes."""
        failed: list[str] = []
        async with self.unit() as unit:
            for run_id, node_id, pid in await run_store.running_here(unit.conn, HOST):
                if is_alive(pid):
                    continue
                why = f"its process ({pid}) is gone: the server running it stopped"
                await self._fail_left_over(unit, node_id, why, run_id)
                failed.append(node_id)
            for node_id in await run_store.stranded_nodes(unit.conn):
                await self._fail_left_over(unit, node_id, "no run was executing it", None)
                failed.append(node_id)
            for run_id, executor in await run_store.open_runs_of(unit.conn, f"{HOST}:"):
                pid = int(executor.rsplit(":", 1)[1])
                if executor != self.executor and not is_alive(pid):
                    await run_store.close_run(unit.conn, run_id, "failed", "its server stopped")
            if failed:
                await events.announce(unit.conn, "resync")
        return failed

    async def _fail_left_over(self, unit: Unit, node_id: str, why: str, run_id: str | None) -> None:
        await node_store.finish_running(unit.conn, node_id, Status.FAILED.value)
        if run_id:
            await run_store.node_finished(unit.conn, run_id, node_id, "failed", reason=why)
        row = await node_store.node_row(unit.conn, node_id)
        if row is not None:
            folder = folders.node_path(self.settings.data_path, row[1])
            logs = sorted((folder / "logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
            target = logs[-1] if logs else folder / "logs" / "recovered.log"
            _append(target, f"\nfusionpipe: marked failed at server start: {why}\n")
        log.warning("fusionpipe: node %s marked failed: %s", node_id, why)

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


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
