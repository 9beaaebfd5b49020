"""Shared steps of graph edits: loading a pipeline's graph, status propagation, identity files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core import dag
from ...errors import Conflict, NotFound
from ...folders import kernels, parameters
from ...folders import node_folders as folders
from ...models import Edge, Node, Status
from ...store import edges as edge_store
from ...store import nodes as node_store
from ..common import Unit


@dataclass
class Graph:
    """A pipeline's members and edges as read inside one transaction."""

    nodes: dict[str, Node]
    edges: list[Edge]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(edge.source, edge.target) for edge in self.edges]

    @property
    def statuses(self) -> dict[str, Status]:
        return {node_id: Status(node.status) for node_id, node in self.nodes.items()}

    def member(self, node_id: str, pipeline_id: str) -> Node:
        node = self.nodes.get(node_id)
        if node is None:
            raise NotFound(f"pipeline {pipeline_id} has no node {node_id!r}")
        return node


async def load_graph(unit: Unit, pipeline_id: str) -> Graph:
    nodes = await node_store.members(unit.conn, pipeline_id)
    edges = await edge_store.pipeline_edges(unit.conn, pipeline_id)
    return Graph({node.id: node for node in nodes}, edges)


def require_unlocked(node: Node, action: str) -> None:
    """Refuse to change a locked node, naming what locks it: itself, or a locked pipeline that
    holds it (``locked_by`` is derived in SQL, see store/locks.py)."""
    by = node.locked_by
    if by is None:
        return
    if by["kind"] == "node":
        raise Conflict(f"node {node.tag!r} ({node.id}) is locked: unlock it to {action}")
    raise Conflict(
        f"node {node.tag!r} ({node.id}) is frozen by locked pipeline {by['tag']!r}: "
        f"unlock that pipeline to {action}"
    )


def require_writable(node: Node, action: str) -> None:
    """Refuse to change a node whose folder is read-only: locked, or shared by reference."""
    require_unlocked(node, action)
    if node.referenced:
        raise Conflict(
            f"node {node.tag!r} ({node.id}) is shared with other pipelines (referenced): "
            f"detach it to {action}"
        )


async def apply_statuses(unit: Unit, changes: dict[str, Status]) -> None:
    await node_store.set_statuses(unit.conn, {k: v.value for k, v in changes.items()})


async def invalidate_inputs(unit: Unit, child_ids: Sequence[str]) -> dict[str, Status]:
    """An edge into these nodes was added or removed: a completed child turns ``staledata``
    and so does every completed descendant, in every pipeline (see ``dag.INVALIDATED``)."""
    statuses, below = await node_store.downstream(unit.conn, child_ids)
    typed = {node_id: Status(status) for node_id, status in statuses.items()}
    changes = dag.stale_descendants(typed, [*child_ids, *below])
    await apply_statuses(unit, changes)
    # The check that follows the commit names the reasons (and undoes what a change undid).
    unit.touched.update(child_ids)
    return changes


async def refresh_identities(unit: Unit, data_path: Path, node_ids: Iterable[str]) -> None:
    """Rewrite the identity files of these nodes once the transaction commits. Call it last in
    an operation: the rows are read now, so they include everything the operation changed."""
    wanted = list(dict.fromkeys(node_ids))
    if wanted:
        rows = await node_store.identities(unit.conn, wanted)
        unit.folders.finish.append(lambda: write_identities(data_path, rows))


def write_identities(data_path: Path, rows: list[dict[str, Any]]) -> None:
    """Identity files, and the kernel specs that carry the same identity into notebooks."""
    for row in rows:
        path = folders.node_path(data_path, str(row["folder"]))
        if path.exists():
            identity = {k: v for k, v in row.items() if k != "folder"}
            identity["parameters"] = parameters.read_parameters_or_empty(path)
            folders.write_identity(path, identity)
            kernels.write_kernelspec(data_path, str(row["node_id"]), str(row["tag"]), path)


async def sync_read_only(unit: Unit, data_path: Path, node_ids: Iterable[str]) -> None:
    """After the commit, make the folders of locked or shared (referenced) nodes read-only on
    disk and give the others their write permission back. Files of other users keep their
    mode (only their owner may change it): ``unit.warnings`` says so."""
    states = await node_store.read_only_states(unit.conn, list(node_ids))

    def apply() -> None:
        for folder, read_only in states:
            path = folders.node_path(data_path, folder)
            if path.exists():
                note = folders.set_locked(path, read_only).note(f"node folder {folder}")
                if note is not None:
                    unit.warnings.append(note)

    unit.folders.finish.append(apply)
