"""Writing a planned import into the target database with the store's functions."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..models import Edge, Group, new_id
from ..service.common import FolderChanges, Unit
from ..service.graph import edits as graph
from ..store import edges as edge_store
from ..store import events
from ..store import groups as group_store
from ..store import nodes as node_store
from ..store import pipelines as pipeline_store
from ..store import projects as project_store
from .outcome import Plan


async def write_rows(unit: Unit, plan: Plan, data_path: Path) -> None:
    """Every planned row; then, queued for after the commit, the identity files and kernels of
    the nodes it touched and the write permission of their folders."""
    conn = unit.conn
    for project in plan.projects:
        await project_store.insert_project(
            conn,
            str(project["id"]),
            str(project["tag"]),
            str(project["notes"]),
            str(project["owner"]),
        )
        await events.announce(conn, "project.created", project_id=project["id"])
    for pipeline in plan.pipelines:
        await pipeline_store.insert_pipeline(
            conn,
            str(pipeline["id"]),
            str(pipeline["project_id"]),
            str(pipeline["tag"]),
            str(pipeline["notes"]),
            str(pipeline["owner"]),
        )
        if pipeline["locked"]:
            await pipeline_store.update_pipeline(conn, str(pipeline["id"]), locked=True)
    await node_store.insert_nodes(conn, [node.row for node in plan.nodes])
    positions: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for pipeline_id, node_id, x, y in plan.members:
        positions[pipeline_id].append((node_id, x, y))
    for pipeline_id, members in positions.items():
        await node_store.add_members(conn, pipeline_id, members)
    for group in plan.groups:
        await group_store.insert_group(conn, Group(**group))
    for pipeline_id, node_id, group_id in plan.grouped:
        await node_store.set_group(conn, pipeline_id, [node_id], group_id)
    await edge_store.insert_edges(
        conn, [Edge(new_id("edge"), parent, child, slot) for parent, child, slot in plan.edges]
    )
    for child, parent, relation in plan.lineage:
        await pipeline_store.add_lineage(conn, child, [parent], relation)
    for pipeline_id in sorted(
        {p for p, *_ in plan.members} | {g["pipeline_id"] for g in plan.groups}
    ):
        await events.announce(conn, "pipeline.changed", pipeline_id=pipeline_id)
    touched = [str(node.row["id"]) for node in plan.nodes]
    touched += [child for _, child, _ in plan.edges]
    await graph.refresh_identities(unit, data_path, touched)
    await graph.sync_read_only(unit, data_path, [*touched, *(n for _, n, _, _ in plan.members)])


def new_unit(conn: object) -> Unit:
    return Unit(conn, FolderChanges())  # type: ignore[arg-type]
