"""Deleting projects, pipelines and nodes: into the trash, folders included.

What a deletion takes is gathered first, copied into one trash item (rows by table, see
store/trash.py) and its node folders are renamed aside; then the rows are really deleted, so
every listing, graph, run and staleness check simply no longer sees them. Node rows are deleted
while their memberships still exist: PostgreSQL's own rule (migration 0006) lets a pipeline's
owner delete the nodes only that pipeline holds, which it can only see before the cascade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ...errors import Conflict, Forbidden
from ...folders import kernels, trash_folders
from ...models import Pipeline, Project, Status, TrashItem, new_id
from ...store import edges as edge_store
from ...store import events
from ...store import nodes as node_store
from ...store import pipelines as pipeline_store
from ...store import projects as project_store
from ...store import trash as trash_store
from ..common import ServiceBase, Settings, Unit
from .edits import (
    invalidate_inputs,
    load_graph,
    refresh_identities,
    require_unlocked,
    sync_read_only,
)

SECONDS_PER_DAY = 86_400.0


@dataclass
class Deletion:
    """One delete as the trash records it: what it is, and every row that goes with it."""

    kind: str  # project, pipeline or node
    item_id: str
    tag: str
    owner: str
    pipeline_id: str | None = None
    project_id: str | None = None
    projects: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    # Nodes whose rows go (no pipeline left holding them), and memberships or edges taken
    # away on their own (a shared node removed from one pipeline).
    nodes: list[str] = field(default_factory=list)
    memberships: list[tuple[str, str]] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)


async def keep_in_trash(
    unit: Unit, settings: Settings, deleted_by: str, deletion: Deletion, *, keep: bool = True
) -> TrashItem:
    """Copy what ``deletion`` takes into a new trash item and rename its node folders aside
    (put back if the transaction fails). Call it before deleting anything. ``keep`` False:
    nothing is kept, the folders are deleted once the transaction commits (undoing something
    half-made, such as an example that failed)."""
    rows = await trash_store.snapshot(
        unit.conn,
        projects=deletion.projects,
        pipelines=deletion.pipelines,
        nodes=deletion.nodes,
        memberships=deletion.memberships,
        edges=deletion.edges,
    )
    trash_id = new_id("trash")
    kept: list[dict[str, str]] = []
    for node in rows["nodes"]:
        trashed = trash_folders.move_to_trash(settings.data_path, node["folder"], trash_id)
        if trashed is None:
            continue
        unit.folders.undo.append(
            partial(trash_folders.put_back_in_trash, settings.data_path, trashed, node["folder"])
        )
        kept.append({"node_id": node["id"], "folder": node["folder"], "trashed": trashed})
        # A kernel of a deleted node must not be offered; a restore writes it again.
        unit.folders.finish.append(
            partial(kernels.remove_kernelspec, settings.data_path, node["id"])
        )
    item = await trash_store.insert_item(
        unit.conn,
        item={
            "id": trash_id,
            "kind": deletion.kind,
            "item_id": deletion.item_id,
            "tag": deletion.tag,
            "owner": deletion.owner,
            "deleted_by": deleted_by,
            "pipeline_id": deletion.pipeline_id,
            "project_id": deletion.project_id,
        },
        rows=rows,
        folders=kept,
        keep_seconds=max(settings.trash_days, 0.0) * SECONDS_PER_DAY,
    )
    if not keep:
        await trash_store.delete_item(unit.conn, item.id)
        unit.folders.finish.append(partial(purge_kept, settings.data_path, kept))
    # Their stat cache goes first, before any node row is touched: a staleness check writes
    # node_files and then nodes, and the cascade of a node's delete would take the same rows
    # the other way round, which deadlocks with a check under way.
    await node_store.forget_stat_entries(unit.conn, deletion.nodes)
    return item


def refused(what: str) -> Forbidden:
    """PostgreSQL deleted nothing although the service allowed it: its row-level security
    knows other admins than this server (see rights.py)."""
    return Forbidden(
        f"the database refused to delete {what}: only its owner or an admin may, and the "
        f"database's list of admins is the one that counts"
    )


async def delete_node_rows(unit: Unit, node_ids: Sequence[str]) -> None:
    if node_ids and await node_store.delete_nodes(unit.conn, node_ids) != len(node_ids):
        raise refused(f"node(s) {', '.join(node_ids)}")


async def trash_pipelines(
    unit: Unit,
    settings: Settings,
    deleted_by: str,
    pipelines: Sequence[Pipeline],
    project: Project | None = None,
    *,
    keep: bool = True,
) -> TrashItem:
    """Delete pipelines (memberships, groups, runs and lineage go with them) and the nodes only
    they hold, into one trash item; with ``project``, that project too (whose pipelines they
    are, all of them)."""
    conn = unit.conn
    ids = [p.id for p in pipelines]
    members = await node_store.members_of(conn, ids)
    running = await node_store.running_among(conn, members)
    if running:
        names = ", ".join(f"{tag!r} ({node_id})" for node_id, tag in running)
        what = "project" if project is not None else "pipeline"
        raise Conflict(
            f"{what} {(project or pipelines[0]).tag!r} cannot be deleted while its nodes run: "
            f"{names}; wait for them to finish or kill them first"
        )
    only_theirs = await node_store.held_only_by(conn, members, ids)
    if project is not None:
        deletion = Deletion("project", project.id, project.tag, project.owner)
        deletion.projects = [project.id]
    else:
        (pipeline,) = pipelines
        deletion = Deletion("pipeline", pipeline.id, pipeline.tag, pipeline.owner)
        deletion.project_id = pipeline.project_id
    deletion.pipelines, deletion.nodes = ids, only_theirs
    item = await keep_in_trash(unit, settings, deleted_by, deletion, keep=keep)
    await delete_node_rows(unit, only_theirs)
    for pipeline in pipelines:
        if not await pipeline_store.delete_pipeline(conn, pipeline.id):
            raise refused(f"pipeline {pipeline.tag!r} ({pipeline.id})")
        await events.announce(
            conn, "pipeline.deleted", pipeline_id=pipeline.id, project_id=pipeline.project_id
        )
    if project is not None:
        await project_store.rehome_nodes(conn, project.id)
        if not await project_store.delete_project(conn, project.id):
            raise refused(f"project {project.tag!r} ({project.id})")
        await events.announce(conn, "project.deleted", project_id=project.id)
    # Nodes they shared with other pipelines may now be held by one only: writable again.
    await sync_read_only(unit, settings.data_path, [n for n in members if n not in only_theirs])
    await events.announce(conn, "trash.changed")
    return item


def purge_kept(data_path: Path, kept: Sequence[dict[str, str]]) -> None:
    """Delete for good the folders a trash item kept (in a thread: whole trees)."""
    for entry in kept:
        trash_folders.purge_trashed(data_path, entry["trashed"])


async def remove_node(
    unit: Unit, service: ServiceBase, username: str, pipeline_id: str, node_id: str
) -> TrashItem:
    """Remove a node from a pipeline, into the trash; its row and folder go only when no other
    pipeline holds it. Its children here lose that parent, which makes their outputs stale.
    Shared by a delete and by the undo of a new node."""
    pipeline = await service.pipeline(unit.conn, pipeline_id)
    graph = await load_graph(unit, pipeline_id)
    node = graph.member(node_id, pipeline_id)
    service.rights.require_node(
        username, node.owner, pipeline.owner, f"delete node {node.tag!r} ({node.id})"
    )
    await service.pipeline(unit.conn, pipeline_id, editable=True)
    require_unlocked(node, "remove it")
    if node.status == Status.RUNNING.value:
        raise Conflict(f"node {node.tag!r} ({node.id}) is running: kill it first")
    outgoing = [edge for edge in graph.edges if edge.source == node_id]
    shared = [graph.nodes[e.target] for e in outgoing if graph.nodes[e.target].referenced]
    if shared:
        names = ", ".join(f"{n.tag!r} ({n.id})" for n in shared)
        raise Conflict(
            f"node {node.tag!r} feeds nodes shared with other pipelines ({names}): "
            f"remove or detach those first"
        )
    # A node held by this pipeline only goes whole (its parent edges too: nothing else
    # can use them); a shared one leaves this pipeline and the edges to its children here.
    removed = [edge.id for edge in outgoing]
    deletion = Deletion(
        "node",
        node.id,
        node.tag,
        node.owner,
        pipeline_id=pipeline_id,
        project_id=pipeline.project_id,
        edges=removed,
    )
    if node.referenced:
        deletion.memberships = [(pipeline_id, node_id)]
    else:
        deletion.nodes = [node_id]
    item = await keep_in_trash(unit, service.settings, username, deletion)
    await edge_store.delete_edges(unit.conn, removed)
    children = [edge.target for edge in outgoing]
    await invalidate_inputs(unit, children)
    if node.referenced:
        if not await node_store.remove_member(unit.conn, pipeline_id, node_id):
            raise refused(f"node {node.tag!r} ({node.id}) from this pipeline")
        await sync_read_only(unit, service.settings.data_path, [node_id])
    else:
        await delete_node_rows(unit, [node_id])
    await refresh_identities(unit, service.settings.data_path, children)
    await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
    await events.announce(unit.conn, "trash.changed")
    return item
