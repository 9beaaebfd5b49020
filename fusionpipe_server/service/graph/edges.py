"""Edges (parent -> child with an input slot) and node groups of a pipeline."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...core import dag
from ...core.edit_log import group_name
from ...errors import Conflict, Invalid, NotFound
from ...models import Edge, Group, new_id
from ...store import edges as edge_store
from ...store import events
from ...store import groups as group_store
from ...store import nodes as node_store
from ..common import ServiceBase, clean_tag
from .edits import invalidate_inputs, refresh_identities, require_writable
from .undo_log import edge_change, group_change, member_change, record


class EdgeService(ServiceBase):
    async def connect(
        self, username: str, pipeline_id: str, source: str, target: str, *, undoable: bool = True
    ) -> Edge:
        """Add parent -> child. Refused when it would close a cycle (the message shows it), when
        the child is shared by reference or locked, or when the edge exists. On ``username``'s
        undo stack unless ``undoable`` is False."""
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id, editable=True)
            # Only the two ends and the edge pairs: loading every node would cost more than
            # the whole check on a large pipeline.
            ends = await node_store.members_by_id(unit.conn, pipeline_id, [source, target])
            for node_id in (source, target):
                if node_id not in ends:
                    raise NotFound(f"pipeline {pipeline_id} has no node {node_id!r}")
            parent, child = ends[source], ends[target]
            require_writable(child, "give it new inputs")
            pairs = await edge_store.pipeline_pairs(unit.conn, pipeline_id)
            if (source, target) in pairs:
                raise Conflict(f"{parent.tag!r} is already connected to {child.tag!r}")
            cycle = dag.find_cycle(pairs, (source, target))
            if cycle:
                tags = await node_store.tags(unit.conn, cycle)
                path = " -> ".join(tags[n] for n in cycle)
                raise Conflict(f"connecting {parent.tag!r} to {child.tag!r} makes a cycle: {path}")
            slots = [e.slot for e in await edge_store.parents_of(unit.conn, [target])]
            edge = Edge(new_id("edge"), source, target, dag.next_slot(slots))
            await edge_store.insert_edges(unit.conn, [edge])
            if undoable:
                tags = {source: parent.tag, target: child.tag}
                label = f"new edge {parent.tag!r} → {child.tag!r}"
                await record(
                    unit, username, pipeline_id, label, [edge_change(edge, tags, added=True)]
                )
            await invalidate_inputs(unit, [target])
            await refresh_identities(unit, self.settings.data_path, [target])
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
        return edge

    async def disconnect(self, username: str, pipeline_id: str, edge_id: str) -> None:
        """Delete an edge (an input slot disconnected), on ``username``'s undo stack."""
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id, editable=True)
            edge = await edge_store.get_edge(unit.conn, edge_id)
            ends = {}
            if edge is not None:
                ends = await node_store.members_by_id(unit.conn, pipeline_id, [edge.target])
            if edge is None or edge.target not in ends:
                raise NotFound(f"pipeline {pipeline_id} has no edge {edge_id!r}")
            child = ends[edge.target]
            require_writable(child, "change its inputs")
            await edge_store.delete_edges(unit.conn, [edge_id])
            tags = await node_store.tags(unit.conn, [edge.source, edge.target])
            label = f"deletion of edge {tags[edge.source]!r} → {child.tag!r}"
            await record(unit, username, pipeline_id, label, [edge_change(edge, tags, added=False)])
            await invalidate_inputs(unit, [edge.target])
            await refresh_identities(unit, self.settings.data_path, [edge.target])
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)


class GroupService(ServiceBase):
    """Groups are layout, like positions: a locked pipeline still accepts them."""

    async def create(
        self,
        username: str,
        pipeline_id: str,
        node_ids: list[str],
        *,
        tag: str | None = None,
        position: tuple[float, float] | None = None,
        size: tuple[float, float] | None = None,
    ) -> Group:
        async with self.unit() as unit:
            conn = unit.conn
            await self.pipeline(conn, pipeline_id)
            members = {n.id: n for n in await node_store.members(conn, pipeline_id)}
            missing = [n for n in node_ids if n not in members]
            if missing:
                raise NotFound(f"pipeline {pipeline_id} has no node(s) {', '.join(missing)}")
            grouped = [members[n] for n in node_ids if members[n].group_id]
            if grouped:
                names = ", ".join(f"{n.tag!r}" for n in grouped)
                raise Conflict(f"node(s) {names} already belong to a group: ungroup them first")
            x, y = position if position else _around(members[n] for n in node_ids)
            width, height = checked_size(size) if size else (400.0, 300.0)
            group = Group(
                new_id("group"), pipeline_id, clean_tag(tag) or "", False, x, y, width, height
            )
            await group_store.insert_group(conn, group)
            await node_store.set_group(conn, pipeline_id, node_ids, group.id)
            grouped_now = await node_store.members_by_id(conn, pipeline_id, node_ids)
            changes = [group_change(None, group)] + [
                member_change(pipeline_id, members[n], grouped_now[n]) for n in node_ids
            ]
            label = f"new group {group.tag!r}" if group.tag else "new group"
            await record(unit, username, pipeline_id, label, changes)
            await events.announce(conn, "pipeline.changed", pipeline_id=pipeline_id)
        return group

    async def _group(self, conn: Any, group_id: str) -> Group:
        group = await group_store.get_group(conn, group_id)
        if group is None:
            raise NotFound(f"no group with id {group_id!r}")
        return group

    async def update(
        self,
        username: str,
        group_id: str,
        *,
        tag: str | None = None,
        collapsed: bool | None = None,
        position: tuple[float, float] | None = None,
        size: tuple[float, float] | None = None,
    ) -> Group:
        async with self.unit() as unit:
            conn = unit.conn
            group = await self._group(conn, group_id)
            before = replace(group)
            if tag is not None:
                # The same rule as at creation (a PATCH used to skip it).
                group.tag = clean_tag(tag) or ""
            if collapsed is not None:
                group.collapsed = collapsed
            if position is not None:
                group.x, group.y = position
            if size is not None:
                group.width, group.height = checked_size(size)
            await group_store.update_group(conn, group)
            label = f"{_group_verb(before, group)} of {group_name(before.tag)}"
            await record(unit, username, group.pipeline_id, label, [group_change(before, group)])
            await events.announce(conn, "pipeline.changed", pipeline_id=group.pipeline_id)
        return group

    async def delete(self, username: str, group_id: str) -> None:
        """Remove the box; its nodes stay where they are."""
        async with self.unit() as unit:
            conn = unit.conn
            group = await self._group(conn, group_id)
            inside = [
                n
                for n in await node_store.members(conn, group.pipeline_id)
                if n.group_id == group_id
            ]
            await group_store.delete_group(conn, group_id)
            after = await node_store.members_by_id(conn, group.pipeline_id, [n.id for n in inside])
            changes = [group_change(group, None)] + [
                member_change(group.pipeline_id, n, after[n.id]) for n in inside
            ]
            label = f"deletion of {group_name(group.tag)}"
            await record(unit, username, group.pipeline_id, label, changes)
            await events.announce(conn, "pipeline.changed", pipeline_id=group.pipeline_id)


def _group_verb(before: Group, after: Group) -> str:
    """How the undo stack names a change of a group: its most visible part."""
    if before.tag != after.tag:
        return "rename"
    if before.collapsed != after.collapsed:
        return "collapse" if after.collapsed else "expansion"
    if (before.width, before.height) != (after.width, after.height):
        return "resize"
    return "move"


def _around(nodes: Any) -> tuple[float, float]:
    """Top-left corner of a box around the nodes, with room for the group's header."""
    nodes = list(nodes)
    return min(n.x for n in nodes) - 30.0, min(n.y for n in nodes) - 66.0


def checked_size(size: tuple[float, float]) -> tuple[float, float]:
    """A group's size: both sides positive (a create once allowed a negative one)."""
    if size[0] <= 0 or size[1] <= 0:
        raise Invalid("size.width and size.height must be positive")
    return size
