"""Recovering at server start: nodes and runs left behind by a server that is gone."""

from __future__ import annotations

import logging
from pathlib import Path

from psycopg import AsyncConnection

from ..models import Status
from ..nodes import folders
from ..processes import is_alive
from ..store import events
from ..store import nodes as node_store
from ..store import runs as run_store
from ..store.database import Database
from .execution import HOST, append_log

log = logging.getLogger(__name__)


async def reconcile(db: Database, data_path: Path, executor: str) -> list[str]:
    """Nodes left ``running`` by processes that are gone become ``failed`` (the reason goes to
    their log) and runs whose server is gone are closed. Returns the nodes."""
    failed: list[str] = []
    async with db.transaction() as conn:
        for run_id, node_id, pid in await run_store.running_here(conn, HOST):
            if is_alive(pid):
                continue
            why = f"its process ({pid}) is gone: the server running it stopped"
            await _fail_left_over(conn, data_path, node_id, why, run_id)
            failed.append(node_id)
        for node_id in await run_store.stranded_nodes(conn):
            await _fail_left_over(conn, data_path, node_id, "no run was executing it", None)
            failed.append(node_id)
        for run_id, other in await run_store.open_runs_of(conn, f"{HOST}:"):
            pid = int(other.rsplit(":", 1)[1])
            if other != executor and not is_alive(pid):
                await run_store.close_run(conn, run_id, "failed", "its server stopped")
        if failed:
            await events.announce(conn, "resync")
    return failed


async def _fail_left_over(
    conn: AsyncConnection, data_path: Path, node_id: str, why: str, run_id: str | None
) -> None:
    await node_store.finish_running(conn, node_id, Status.FAILED.value)
    if run_id:
        await run_store.node_finished(conn, run_id, node_id, "failed", reason=why)
    row = await node_store.node_row(conn, node_id)
    if row is not None:
        folder = folders.node_path(data_path, row[1])
        logs = sorted((folder / "logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
        target = logs[-1] if logs else folder / "logs" / "recovered.log"
        append_log(target, f"\nfusionpipe: marked failed at server start: {why}\n")
    log.warning("fusionpipe: node %s marked failed: %s", node_id, why)
