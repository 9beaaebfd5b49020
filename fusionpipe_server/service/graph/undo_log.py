"""Recording graph edits for undo: the states of the objects an edit touches, read the same way
when the edit is made and when it is undone, and the record written in the edit's transaction.

Every service that makes a graph edit calls ``record`` inside its own transaction, so an edit
and its undo record commit together or not at all. ``undo.py`` applies the records.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from ...core import edit_log
from ...core.edit_log import Change, State
from ...models import Edge, Group, Node
from ...store import edges as edge_store
from ...store import groups as group_store
from ...store import nodes as node_store
from ...store import undo as undo_store
from ..common import Unit


def node_state(node: Node | None) -> State:
    """A node's fields a graph edit changes; ``locked`` is its own lock (see locks.py)."""
    if node is None:
        return None
    return {"tag": node.tag, "notes": node.notes, "locked": node.locked_by == {"kind": "node"}}


def member_state(node: Node | None) -> State:
    """Where a node is drawn in one pipeline, and its group there."""
    if node is None:
        return None
    return {"x": node.x, "y": node.y, "group": node.group_id}


def edge_state(edge: Edge | None) -> State:
    if edge is None:
        return None
    return {"source": edge.source, "target": edge.target, "slot": edge.slot}


def group_state(group: Group | None) -> State:
    if group is None:
        return None
    return {
        "tag": group.tag,
        "collapsed": group.collapsed,
        "x": group.x,
        "y": group.y,
        "width": group.width,
        "height": group.height,
    }


async def current_state(conn: AsyncConnection, pipeline_id: str, change: Change) -> State:
    """The object of ``change`` as it is now (None: it does not exist, or not in this
    pipeline)."""
    kind, _, rest = change["key"].partition(":")
    if kind in ("node", "member"):
        node_id = rest.rpartition(":")[2]
        node = (await node_store.members_by_id(conn, pipeline_id, [node_id])).get(node_id)
        return node_state(node) if kind == "node" else member_state(node)
    if kind == "edge":
        return edge_state(await edge_store.get_edge(conn, rest))
    return group_state(await group_store.get_group(conn, rest))


async def record(
    unit: Unit, username: str, pipeline_id: str, label: str, changes: list[Change]
) -> None:
    """Put an edit on ``username``'s undo stack of the pipeline (nothing if it changed
    nothing)."""
    kept = edit_log.changed(changes)
    if kept:
        await undo_store.record(unit.conn, pipeline_id, username, label, kept)


async def record_copies(
    unit: Unit, owner: str, pipeline_id: str, copy_ids: list[str], edges: list[Edge]
) -> None:
    """New copies of nodes, with their input edges, as one edit on ``owner``'s undo stack of
    the pipeline they went to (a duplicate or a paste)."""
    copies = await node_store.members_by_id(unit.conn, pipeline_id, copy_ids)
    ends = {e.source for e in edges} | {e.target for e in edges}
    tags = await node_store.tags(unit.conn, list(ends))
    changes = [node_change(None, copies[n]) for n in copy_ids]
    changes += [edge_change(edge, tags, added=True) for edge in edges]
    only = copies[copy_ids[0]].tag if len(copy_ids) == 1 else None
    label = f"copy of node {only!r}" if only else f"copy of {edit_log.count(len(copy_ids), 'node')}"
    await record(unit, owner, pipeline_id, label, changes)


def node_change(node_before: Node | None, node_after: Node | None, **extra: Any) -> Change:
    """The change of a node's own fields (``extra``: e.g. the trash item of a deletion)."""
    node = node_after or node_before
    assert node is not None
    made = edit_log.change(
        edit_log.node_key(node.id),
        edit_log.node_name(node.tag),
        node_state(node_before),
        node_state(node_after),
    )
    return {**made, **extra}


def member_change(pipeline_id: str, before: Node, after: Node) -> Change:
    return edit_log.change(
        edit_log.member_key(pipeline_id, before.id),
        edit_log.node_name(before.tag),
        member_state(before),
        member_state(after),
    )


def edge_change(edge: Edge, tags: dict[str, str], *, added: bool) -> Change:
    state = edge_state(edge)
    return edit_log.change(
        edit_log.edge_key(edge.id),
        edit_log.edge_name(tags.get(edge.source, edge.source), tags.get(edge.target, edge.target)),
        None if added else state,
        state if added else None,
    )


def group_change(before: Group | None, after: Group | None) -> Change:
    group = after or before
    assert group is not None
    return edit_log.change(
        edit_log.group_key(group.id),
        edit_log.group_name(group.tag),
        group_state(before),
        group_state(after),
    )
