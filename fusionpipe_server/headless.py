"""Headless commands: ``fusionpipe run`` (progress as nodes finish), ``fusionpipe status``
(each node's state and why it is stale) and the output cache's ``gc``, without JupyterLab."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from .embedded_db import default_embedded_path, prepare_database
from .errors import FusionpipeError, NotFound
from .events import EventHub
from .models import Run
from .service import Service, Settings
from .store.database import Database

SYMBOLS = {"completed": "ok  ", "failed": "FAIL", "skipped": "skip", "cancelled": "stop"}


@asynccontextmanager
async def open_service(
    database_url: str, data_path: Path, parallel: int = 1, *, listen: bool = False
) -> AsyncIterator[Service]:
    """The services on ``database_url`` (else the embedded database), for one command;
    ``listen``: obeying kills and cancels asked from a lab (or another command), as a
    server does."""
    dsn, embedded = prepare_database(database_url, default_embedded_path())
    db = Database(dsn, max_size=4)
    await db.open()
    hub = EventHub(dsn) if listen else None
    try:
        service = Service(
            db,
            Settings(
                data_path=data_path.resolve(),
                max_parallel_nodes=parallel,
                matlab_runner_path=os.environ.get("FP_MATLAB_RUNNER_PATH", ""),
            ),
        )
        # The admins PostgreSQL knows: the CLI has no setting of its own for them.
        await service.rights.load(db)
        if hub is not None:
            await hub.start()
            hub.subscribe(service.runs.on_event)
        yield service
    finally:
        if hub is not None:
            await hub.stop()
        await db.close()
        if embedded is not None:
            embedded.stop()


async def run_pipeline(
    pipeline: str,
    *,
    until: str | None,
    database_url: str,
    data_path: Path,
    parallel: int,
    out: TextIO = sys.stdout,
) -> int:
    """Run ``pipeline`` (id or tag), up to ``until`` (node id or tag) if given. Exit status 0 when
    every node it ran completed."""
    async with open_service(database_url, data_path, parallel, listen=True) as service:
        found = await service.pipelines.find(pipeline)
        graph = await service.pipelines.graph(found.id)
        tags = {node["id"]: node["tag"] for node in graph["nodes"]}
        until_id = _node_id(until, tags) if until else None
        run = await service.runs.start(getpass.getuser(), found.id, until=until_id)
        print(f"fusionpipe: run {run.id} of {found.tag!r} ({len(run.nodes)} nodes)", file=out)
        try:
            run = await _follow(service, run, tags, out)
        except asyncio.CancelledError:
            run = await service.runs.cancel(getpass.getuser(), run.id)
        print(f"fusionpipe: run {run.status}", file=out)
        return 0 if run.status == "completed" else 1


async def pipeline_status(
    pipeline: str, *, database_url: str, data_path: Path, out: TextIO = sys.stdout
) -> int:
    """Print each node's state and reasons, like ``dvc status``; 0 when every node is
    completed and up to date."""
    async with open_service(database_url, data_path) as service:
        found = await service.pipelines.find(pipeline)
        await service.staleness.check_pipeline(found.id)
        graph = await service.pipelines.graph(found.id)
    print(f"pipeline {found.tag!r} ({found.id})", file=out)
    width = max((len(node["tag"]) for node in graph["nodes"]), default=0)
    for node in graph["nodes"]:
        print(f"  {node['tag']:<{width}}  {node['status']}", file=out)
        for reason in node["stale_reasons"]:
            print(f"  {'':<{width}}    {reason['kind']}: {reason['message']}", file=out)
    done = all(node["status"] == "completed" for node in graph["nodes"])
    print("everything is up to date" if done else "not everything is up to date", file=out)
    return 0 if done else 1


async def collect_cache(
    *, database_url: str, data_path: Path, limit: int | None, out: TextIO = sys.stdout
) -> int:
    async with open_service(database_url, data_path) as service:
        evicted = await service.cache.collect(limit)
    freed = sum(entry.size for entry in evicted)
    print(f"fusionpipe: removed {len(evicted)} cache entr(ies), {freed} bytes", file=out)
    return 0


def _node_id(id_or_tag: str, tags: dict[str, str]) -> str:
    if id_or_tag in tags:
        return id_or_tag
    matches = [node_id for node_id, tag in tags.items() if tag == id_or_tag]
    if len(matches) != 1:
        raise NotFound(
            f"the pipeline has {len(matches) or 'no'} node(s) with id or tag {id_or_tag!r}"
        )
    return matches[0]


async def _follow(service: Service, run: Run, tags: dict[str, str], out: TextIO) -> Run:
    reported: set[str] = set()
    while True:
        run = await service.runs.get(run.id)
        for node in run.nodes:
            if node.status in SYMBOLS and node.node_id not in reported:
                reported.add(node.node_id)
                took = (
                    f" {(node.finished_at - node.started_at).total_seconds():.1f}s"
                    if node.started_at and node.finished_at
                    else ""
                )
                why = f" ({node.reason})" if node.reason else ""
                print(
                    f"  {SYMBOLS[node.status]} {tags.get(node.node_id, node.node_id)}{took}{why}",
                    file=out,
                )
        if run.status in ("completed", "failed", "cancelled"):
            return run
        await asyncio.sleep(0.1)


def main(pipeline: str, until: str | None, data_path: Path, parallel: int | None) -> int:
    try:
        return asyncio.run(
            run_pipeline(
                pipeline,
                until=until,
                database_url=os.environ.get("DATABASE_URL", ""),
                data_path=data_path,
                parallel=parallel or os.cpu_count() or 1,
            )
        )
    except FusionpipeError as err:
        print(f"fusionpipe: {err.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def kill_node(
    pipeline: str, node: str, *, database_url: str, data_path: Path, out: TextIO = sys.stdout
) -> int:
    """Kill a running node, wherever it runs (a lab server, a headless run); 0 once it ended."""
    async with open_service(database_url, data_path) as service:
        found = await service.pipelines.find(pipeline)
        graph = await service.pipelines.graph(found.id)
        node_id = _node_id(node, {n["id"]: n["tag"] for n in graph["nodes"]})
        result = await service.runs.kill(getpass.getuser(), found.id, node_id)
    print(f"fusionpipe: {result.get('message') or 'killed'}", file=out)
    return 0 if result["killed"] else 1
