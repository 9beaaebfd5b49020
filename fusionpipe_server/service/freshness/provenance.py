"""Provenance: what made a node's outputs, walked back to the roots, for a methods section."""

from __future__ import annotations

from typing import Any

from ...errors import NotFound
from ...store import provenance as provenance_store
from ..common import ServiceBase

# A provenance walk stops this deep: enough for any real pipeline, bounded for a broken one.
MAX_STEPS = 10_000


class ProvenanceService(ServiceBase):
    async def of_node(self, node_id: str) -> dict[str, Any]:
        """The run that made the node's current outputs, with its fingerprint and parts, and
        the same for every parent run whose outputs it read, back to the roots.

        ``steps`` lists each (node, run) once, the node's own first; ``inputs`` name the
        parent steps by node and run id."""
        async with self.db.transaction() as conn:
            start = await provenance_store.current_output(conn, node_id)
            if start is None:
                raise NotFound(f"no node with id {node_id!r}")
            steps: list[dict[str, Any]] = []
            seen: set[tuple[str, str]] = set()
            to_visit = [(node_id, start)] if start else []
            while to_visit and len(steps) < MAX_STEPS:
                node, run = to_visit.pop(0)
                if (node, run) in seen:
                    continue
                seen.add((node, run))
                step = await provenance_store.step(conn, node, run)
                if step is None:
                    continue
                steps.append(step)
                for parent in (step.get("inputs") or {}).values():
                    if parent.get("run_id"):
                        to_visit.append((parent["node_id"], parent["run_id"]))
        return {"node_id": node_id, "made_by_run": start or None, "steps": steps}
