"""The run engine without Jupyter: fusionpipe's services on the test's database, the runner of
local nodes injected (as ``FusionpipeApp.runner_class`` does in a server), and no HTTP, file
watcher, event listener or staleness worker. For tests of what runs, in which order, what is
skipped, what runs at once, kills and cancels; the REST layer has its own tests.

``Engine`` answers with what the REST API would send (the same dicts), so a test reads like
its HTTP counterpart: ``run = await engine.run(pipeline)``, ``outcome(run)``.

``HeldRunner`` starts no process: each node it is given waits until the test ends it, so a
test of ordering or parallelism decides when each node finishes instead of sleeping.
"""

from __future__ import annotations

import asyncio
import getpass
import signal
import time
from pathlib import Path
from typing import Any

from fusionpipe_server.errors import NotFound
from fusionpipe_server.runners.base import NodeJob
from fusionpipe_server.service import Service

RUN_ENDED = ("completed", "failed", "cancelled")


class Engine:
    """The services of one test, and the calls the REST handlers would make."""

    def __init__(self, service: Service, user: str | None = None) -> None:
        self.service = service
        self.user = user or getpass.getuser()

    async def pipeline(self, tag: str = "p") -> dict[str, Any]:
        project = await self.service.projects.create(self.user, tag=f"project-{tag}")
        pipeline = await self.service.pipelines.create(self.user, project.id, tag=tag)
        return pipeline.to_json()

    async def node(self, pipeline: dict[str, Any], tag: str, kind: str | None = None) -> Any:
        return await self.service.nodes.create(self.user, pipeline["id"], tag=tag, kind=kind)

    async def connect(self, pipeline: dict[str, Any], parent: Any, child: Any) -> None:
        await self.service.edges.connect(self.user, pipeline["id"], parent["id"], child["id"])

    async def set_parameters(self, node: dict[str, Any], content: str) -> dict[str, Any]:
        return await self.service.nodes.set_parameters(node["id"], content)

    async def set_status(self, pipeline: dict[str, Any], nodes: list[Any], status: str) -> None:
        ids = [node["id"] for node in nodes]
        await self.service.nodes.set_status(self.user, pipeline["id"], ids, status)

    async def start(
        self,
        pipeline: dict[str, Any],
        *,
        node_ids: list[str] | None = None,
        until: str | None = None,
        items: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What ``POST pipelines/{id}/runs`` answers: the run, queued or running."""
        run = await self.service.runs.start(
            self.user, pipeline["id"], node_ids=node_ids, until=until, items=items
        )
        started = run.to_json()
        assert started["status"] in ("queued", "running") or nothing_to_run(started), started
        return started

    async def run_json(self, run_id: str) -> dict[str, Any]:
        """What ``GET runs/{id}`` answers."""
        return await self.service.history.run(run_id)

    async def wait_run(self, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The run once it has ended (``GET runs/{id}`` then)."""
        await self.service.runs.wait(run_id, timeout)
        finished = await self.run_json(run_id)
        assert finished["status"] in RUN_ENDED, f"not finished within {timeout}s: {finished}"
        return finished

    async def run(self, pipeline: dict[str, Any], **scope: Any) -> dict[str, Any]:
        started = await self.start(pipeline, **scope)
        return await self.wait_run(started["id"])

    async def graph_nodes(self, pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
        graph = await self.service.pipelines.graph(pipeline["id"])
        return {node["tag"]: node for node in graph["nodes"]}

    async def statuses(self, pipeline: dict[str, Any]) -> dict[str, str]:
        return {tag: node["status"] for tag, node in (await self.graph_nodes(pipeline)).items()}

    async def log(
        self, node: dict[str, Any], run_id: str | None = None, tail: int | None = None
    ) -> dict[str, Any]:
        """What ``GET nodes/{id}/log`` answers."""
        return dict(await self.service.runs.log_text(node["id"], run_id, tail))

    async def log_text(self, node: dict[str, Any]) -> str:
        """The node's latest log, "" while it has none (the API's 404)."""
        try:
            return str((await self.log(node))["content"])
        except NotFound:
            return ""

    async def items(self, node: dict[str, Any], **query: Any) -> dict[str, Any]:
        """What ``GET nodes/{id}/items`` answers."""
        query = {"status": None, "text": "", "offset": 0, "limit": 500, **query}
        return await self.service.items.page(node["id"], **query)

    async def item_statuses(self, node: dict[str, Any]) -> dict[str, str]:
        return {item["id"]: item["status"] for item in (await self.items(node))["items"]}

    async def kill(self, pipeline: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
        return await self.service.runs.kill(self.user, pipeline["id"], node["id"])

    async def cancel(self, run_id: str) -> dict[str, Any]:
        return (await self.service.runs.cancel(self.user, run_id)).to_json()


def nothing_to_run(started: dict[str, Any]) -> bool:
    """A run may have ended by the time its start is answered only when it had nothing to
    execute: every node skipped, decided while it was planned, or started no process (a
    mapped node whose items were all up to date)."""
    return started["status"] == "completed" and all(
        node["status"] == "skipped" or not node["tries"] for node in started["nodes"]
    )


def outcome(finished: dict[str, Any]) -> dict[str, str]:
    return {node["node_id"]: node["status"] for node in finished["nodes"]}


class HeldExecution:
    """A node that ends when the test says so (``finish``), or when it is killed."""

    outlives_server = False
    lost = False

    def __init__(self, job: NodeJob) -> None:
        self.job = job
        self.pid: int | None = None
        self.ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @property
    def node_id(self) -> str:
        return self.job.node_id

    def finish(self, code: int = 0) -> None:
        if not self.ended.done():
            self.ended.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self.ended)

    async def kill(self) -> None:
        self.finish(-signal.SIGKILL)


class HeldRunner:
    """A runner of local nodes that starts no process: ``started`` holds every node it was
    given, in order, each waiting for the test to ``finish`` it."""

    name = "held"
    local = True

    def __init__(self) -> None:
        self.started: list[HeldExecution] = []

    async def start(self, job: NodeJob) -> HeldExecution:
        job.log_path.parent.mkdir(parents=True, exist_ok=True)
        with job.log_path.open("a") as log:
            log.write(f"held {job.node_id}\n")
        execution = HeldExecution(job)
        self.started.append(execution)
        return execution

    def take_back(self, pid: int, log_path: Path) -> HeldExecution:
        raise OSError("the held runner takes nothing back")

    def running(self) -> list[HeldExecution]:
        return [e for e in self.started if not e.ended.done()]

    async def wait_running(self, count: int, timeout: float = 10.0) -> list[HeldExecution]:
        """Once ``count`` nodes are running at the same time: them, in the order started."""
        deadline = time.monotonic() + timeout
        while len(self.running()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{count} nodes were never running at once "
                    f"(running: {[e.node_id for e in self.running()]})"
                )
            await asyncio.sleep(0.01)
        return self.running()
