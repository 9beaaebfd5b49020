"""Run history as the panel shows it: pages of a pipeline's runs, and a run's progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from graphlib import TopologicalSorter
from typing import Any

from ...errors import Invalid, NotFound
from ...models import RUN_STATUSES, Run
from ...store import edges as edge_store
from ...store import items as item_store
from ...store import runs as run_store
from ..common import ServiceBase

# A node of a run still has work ahead of it in these states; any other state is final.
UNFINISHED = ("pending", "running")
MAX_PAGE = 500


@dataclass(frozen=True)
class Progress:
    """Nodes done of the run's nodes, seconds since it started, and an estimate of the seconds
    left (None when some node still to finish has never completed before)."""

    done: int
    total: int
    elapsed_s: float
    eta_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "total": self.total,
            "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
        }


def progress(
    run: Run,
    previous: dict[str, float],
    pairs: list[tuple[str, str]],
    now: datetime,
    parallel: int,
) -> Progress:
    """How far ``run`` has got. Each unfinished node is expected to take as long as it did
    before (``previous``), less what a running one has already spent. The work left takes at
    least its longest chain of parent -> child (``pairs``) and at least its sum shared among as
    many workers as may run at once: the estimate is the larger. It is 0 once the run ended."""
    end = run.finished_at or now
    elapsed = (end - run.started_at).total_seconds() if run.started_at else 0.0
    left = {node.node_id: node for node in run.nodes if node.status in UNFINISHED}
    eta: float | None = 0.0
    if run.finished_at is None and left:
        if any(node_id not in previous for node_id in left):
            eta = None
        else:
            remaining = {
                node_id: max(
                    0.0,
                    previous[node_id]
                    - ((now - node.started_at).total_seconds() if node.started_at else 0.0),
                )
                for node_id, node in left.items()
            }
            sharing = sum(remaining.values()) / max(1, min(parallel, len(left)))
            eta = max(sharing, _longest_chain(remaining, pairs))
    return Progress(len(run.nodes) - len(left), len(run.nodes), max(0.0, elapsed), eta)


def _longest_chain(remaining: dict[str, float], pairs: list[tuple[str, str]]) -> float:
    """The largest sum of ``remaining`` along a parent -> child path among its nodes."""
    parents: dict[str, list[str]] = {node_id: [] for node_id in remaining}
    for parent, child in pairs:
        if parent in remaining and child in remaining:
            parents[child].append(parent)
    finish: dict[str, float] = {}
    for node_id in TopologicalSorter(parents).static_order():
        finish[node_id] = remaining[node_id] + max(
            (finish[p] for p in parents[node_id]), default=0.0
        )
    return max(finish.values(), default=0.0)


class HistoryService(ServiceBase):
    async def run(self, run_id: str) -> dict[str, Any]:
        """One run with each node's outcome and its ``progress``."""
        async with self.db.transaction() as conn:
            run = await run_store.get_run(conn, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id!r}")
            unfinished = [node.node_id for node in run.nodes if node.status in UNFINISHED]
            previous = await run_store.previous_durations(conn, run_id, unfinished)
            pairs = await edge_store.pipeline_pairs(conn, run.pipeline_id) if unfinished else []
            items = await item_store.run_progress(conn, run_id)
        now = datetime.now(timezone.utc)
        shown = progress(run, previous, pairs, now, self.settings.max_parallel_nodes)
        answer = run.to_json()
        for node in answer["nodes"]:
            node["items"] = items.get(node["node_id"])
        return {**answer, "progress": shown.to_json()}

    async def page(
        self, pipeline_id: str, *, limit: int, offset: int, status: str | None
    ) -> dict[str, Any]:
        """Runs of a pipeline, newest first, ``limit`` from ``offset``; ``total`` counts every
        run that ``status`` (if given) lets through."""
        if status is not None and status not in RUN_STATUSES:
            raise Invalid(f"status must be one of {', '.join(RUN_STATUSES)}, not {status!r}")
        if limit > MAX_PAGE:
            raise Invalid(f"limit must be at most {MAX_PAGE}")
        async with self.db.transaction() as conn:
            await self.pipeline(conn, pipeline_id)
            runs = await run_store.list_runs(
                conn, pipeline_id=pipeline_id, limit=limit, offset=offset, status=status
            )
            total = await run_store.count_runs(conn, pipeline_id=pipeline_id, status=status)
        return {
            "runs": [run.to_json() for run in runs],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
