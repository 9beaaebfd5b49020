"""What the panel, the CLI and scripts read of a mapped node's items: a page of them, one
item's log, and the table of values and metrics the compare view draws (by item, or by run)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import Invalid, NotFound
from ...folders import logs as run_logs
from ...folders import node_folders as folders
from ...store import items as item_store
from ...store import metrics as metric_store
from ...store import nodes as node_store
from ...store.database import Database
from ..common import ServiceBase, Settings
from .jobs import item_logs

# The most rows one compare table holds.
MAX_METRIC_ROWS = 10_000


class ItemViews(ServiceBase):
    # Set by Service: the batch jobs of a node's executions this server watches (see
    # Running.jobs_of), for each item's ``job_state`` while it runs as one.
    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db, settings)
        self.jobs_of: Callable[[str], dict[str | None, tuple[str, str]]] = lambda _: {}

    async def page(
        self, node_id: str, *, status: str | None, text: str, offset: int, limit: int
    ) -> dict[str, Any]:
        async with self.db.transaction() as conn:
            await self._node_folder(conn, node_id)
            found, total = await item_store.page(
                conn, node_id, status=status, text=text, offset=offset, limit=limit
            )
        jobs = self.jobs_of(node_id)
        for item in found:
            item["folder"] = f"data/{item['id']}"
            job = jobs.get(item["id"])
            item["job_state"] = job[1] if job else None
        return {"items": found, "total": total, "offset": offset, "limit": limit}

    async def log_text(
        self, node_id: str, item_id: str, run_id: str | None, tail: int | None
    ) -> dict[str, object]:
        """One item's log in a run (its last run by default)."""
        async with self.db.transaction() as conn:
            folder = await self._node_folder(conn, node_id)
            last = await item_store.last_run(conn, node_id, item_id)
        if last is False:
            raise NotFound(f"node {node_id} has no item {item_id!r}")
        run_id = run_id or (last if isinstance(last, str) else None)
        if run_id is None:
            return {"node_id": node_id, "run_id": None, "content": ""}
        path = run_logs.log_path(folder, run_id, logs=item_logs(folder, item_id))
        text = await asyncio.to_thread(run_logs.read_tail, path, tail)
        return {"node_id": node_id, "run_id": run_id, "content": text}

    async def item_folder(self, node_id: str, item_id: str) -> tuple[Path, str]:
        """The node folder and the item id, once the node is known to have that item."""
        async with self.db.transaction() as conn:
            folder = await self._node_folder(conn, node_id)
            if await item_store.last_run(conn, node_id, item_id) is False:
                raise NotFound(f"node {node_id} has no item {item_id!r}")
        return folder, item_id

    async def metrics(self, node_id: str, by: str) -> dict[str, Any]:
        """Rows (items, or runs of the node) with their values and metrics, and the columns."""
        if by not in ("items", "runs"):
            raise Invalid("by must be items or runs")
        async with self.db.transaction() as conn:
            await self._node_folder(conn, node_id)
            if by == "items":
                rows = await metric_store.by_item(conn, node_id, MAX_METRIC_ROWS)
            else:
                rows = await metric_store.by_run(conn, node_id, MAX_METRIC_ROWS)
        values = sorted({key for row in rows for key in row["values"]})
        metrics = sorted({key for row in rows for key in row["metrics"]})
        return {"by": by, "values": values, "metrics": metrics, "rows": rows}

    async def _node_folder(self, conn: Any, node_id: str) -> Path:
        relative = await node_store.folders_of(conn, [node_id])
        if not relative:
            raise NotFound(f"no node with id {node_id!r}")
        return folders.node_path(self.settings.data_path, relative[0])
