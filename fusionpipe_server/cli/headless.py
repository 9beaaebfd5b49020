"""Headless commands: ``fusionpipe run`` (progress as nodes finish), ``fusionpipe status``
(each node's state and why it is stale) and the output cache's ``gc``, without JupyterLab."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import FusionpipeError, NotFound
from ..live.hub import EventHub
from ..models import ITEM_STATUSES, Run
from ..runners.registry import Runners
from ..service import Service
from ..store.embedded import prepare_database
from .run_display import RunDisplay, run_display

if TYPE_CHECKING:
    from ..app import FusionpipeApp

SYMBOLS = {"completed": "ok  ", "failed": "FAIL", "skipped": "skip", "cancelled": "stop"}


@asynccontextmanager
async def open_service(settings: FusionpipeApp, *, listen: bool = False) -> AsyncIterator[Service]:
    """The services on the database and data folder of ``settings`` (the server's settings,
    see configuration.py), for one command; ``listen``: obeying kills and cancels asked from
    a lab (or another command), as a server does."""
    dsn, embedded = prepare_database(settings.database_url, Path(settings.embedded_db_path))
    reach = settings.connections(dsn, embedded=embedded is not None)
    db = settings.database(reach)
    await db.open()
    hub = EventHub(reach.events_dsn) if listen else None
    try:
        service_settings = settings.service_settings()
        service = Service(db, service_settings, Runners.default(service_settings, parent=settings))
        # The admins PostgreSQL knows, as PostgreSQL enforces them (a command never changes
        # them: `fusionpipe admin admins set` does, as the database's owner).
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
    settings: FusionpipeApp,
    out: TextIO = sys.stdout,
    failed_items: bool = False,
) -> int:
    """Run ``pipeline`` (id or tag), up to ``until`` (node id or tag) if given, or only the
    failed items of its mapped nodes. Exit status 0 when every node it ran completed."""
    async with open_service(settings, listen=True) as service:
        found = await service.pipelines.find(pipeline)
        graph = await service.pipelines.graph(found.id)
        tags = {node["id"]: node["tag"] for node in graph["nodes"]}
        until_id = _node_id(until, tags) if until else None
        items: dict[str, list[str] | str] | None = None
        if failed_items:
            failing = [n for n in graph["nodes"] if (n["items"] or {}).get("failed")]
            if not failing:
                print(f"fusionpipe: {found.tag!r} has no failed items", file=out)
                return 0
            items = {node["id"]: "failed" for node in failing}
        run = await service.runs.start(getpass.getuser(), found.id, until=until_id, items=items)
        print(f"fusionpipe: run {run.id} of {found.tag!r} ({len(run.nodes)} nodes)", file=out)
        with run_display(out, len(run.nodes)) as display:
            try:
                run = await _follow(service, run, tags, display)
            except asyncio.CancelledError:
                run = await service.runs.cancel(getpass.getuser(), run.id)
        print(f"fusionpipe: run {run.status}", file=out)
        return 0 if run.status == "completed" else 1


async def pipeline_status(
    pipeline: str, *, settings: FusionpipeApp, out: TextIO = sys.stdout
) -> int:
    """Print each node's state and reasons, like ``dvc status``; 0 when every node is
    completed and up to date."""
    async with open_service(settings) as service:
        found = await service.pipelines.find(pipeline)
        await service.staleness.check_pipeline(found.id)
        graph = await service.pipelines.graph(found.id)
    print(f"pipeline {found.tag!r} ({found.id})", file=out)
    width = max((len(node["tag"]) for node in graph["nodes"]), default=0)
    for node in graph["nodes"]:
        print(f"  {node['tag']:<{width}}  {node['status']}{_item_counts(node)}", file=out)
        for reason in node["stale_reasons"]:
            print(f"  {'':<{width}}    {reason['kind']}: {reason['message']}", file=out)
    done = all(node["status"] == "completed" for node in graph["nodes"])
    print("everything is up to date" if done else "not everything is up to date", file=out)
    return 0 if done else 1


async def collect_cache(
    *, settings: FusionpipeApp, limit: int | None, out: TextIO = sys.stdout
) -> int:
    async with open_service(settings) as service:
        evicted = await service.cache.collect(limit)
    freed = sum(entry.size for entry in evicted)
    print(f"fusionpipe: removed {len(evicted)} cache entr(ies), {freed} bytes", file=out)
    return 0


def _item_counts(node: dict[str, Any]) -> str:
    """ " (500 items: 497 completed, 3 failed)" of a mapped node, "" of any other."""
    counts = node["items"]
    if not counts:
        return ""
    parts = [f"{counts[s]} {s}" for s in ITEM_STATUSES if counts[s]]
    return f" ({counts['total']} items: {', '.join(parts)})"


def _node_id(id_or_tag: str, tags: dict[str, str]) -> str:
    if id_or_tag in tags:
        return id_or_tag
    matches = [node_id for node_id, tag in tags.items() if tag == id_or_tag]
    if len(matches) != 1:
        raise NotFound(
            f"the pipeline has {len(matches) or 'no'} node(s) with id or tag {id_or_tag!r}"
        )
    return matches[0]


async def _follow(service: Service, run: Run, tags: dict[str, str], display: RunDisplay) -> Run:
    """Show each node as it finishes and the run's progress, until the run ends."""
    reported: set[str] = set()
    while True:
        shown = await service.history.run(run.id)
        for node in shown["nodes"]:
            if node["status"] in SYMBOLS and node["node_id"] not in reported:
                reported.add(node["node_id"])
                display.line(_node_line(node, tags))
        running = [
            tags.get(n["node_id"], n["node_id"]) for n in shown["nodes"] if n["status"] == "running"
        ]
        display.progress(_counting_items(shown), running)
        if shown["status"] in ("completed", "failed", "cancelled"):
            return await service.runs.get(run.id)
        await asyncio.sleep(0.1)


def _counting_items(run: dict[str, Any]) -> dict[str, Any]:
    """The run's progress with a mapped node counting as its items: 3 nodes, one of them
    mapped over 500 items, are 502 steps."""
    progress = dict(run["progress"])
    for node in run["nodes"]:
        items = node.get("items")
        if items:
            finished = node["status"] not in ("pending", "running")
            progress["total"] += items["total"] - 1
            progress["done"] += items["done"] - (1 if finished else 0)
    return progress


def _node_line(node: dict[str, Any], tags: dict[str, str]) -> str:
    """ "  ok   fit 1.2s", "  FAIL fit 0.3s (exit code 3) [attempt 3 of 3]"."""
    took = f" {node['duration']:.1f}s" if node["duration"] is not None else ""
    why = f" ({node['reason']})" if node["reason"] else ""
    tries = f" [attempt {node['attempt']} of {node['attempts']}]" if node["attempts"] > 1 else ""
    items = node.get("items")
    if items:
        tries += f" [{items['done'] - items['failed']} of {items['total']} items completed]"
    tag = tags.get(node["node_id"], node["node_id"])
    return f"  {SYMBOLS[node['status']]} {tag}{took}{why}{tries}"


def main(
    pipeline: str, until: str | None, settings: FusionpipeApp, *, failed_items: bool = False
) -> int:
    try:
        return asyncio.run(
            run_pipeline(pipeline, until=until, settings=settings, failed_items=failed_items)
        )
    except FusionpipeError as err:
        print(f"fusionpipe: {err.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def kill_node(
    pipeline: str, node: str, *, settings: FusionpipeApp, out: TextIO = sys.stdout
) -> int:
    """Kill a running node, wherever it runs (a lab server, a headless run); 0 once it ended."""
    async with open_service(settings) as service:
        found = await service.pipelines.find(pipeline)
        graph = await service.pipelines.graph(found.id)
        node_id = _node_id(node, {n["id"]: n["tag"] for n in graph["nodes"]})
        result = await service.runs.kill(getpass.getuser(), found.id, node_id)
    print(f"fusionpipe: {result.get('message') or 'killed'}", file=out)
    return 0 if result["killed"] else 1
