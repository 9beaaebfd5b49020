"""Undo and redo of graph edits: each user's own stack per pipeline, kept by the server.

An undo writes back the ``before`` of every object the edit touched (``core/edit_log.py``),
only where every object is still as the edit left it: a later change of the same object, by a
colleague or by a run of the user's own elsewhere, refuses the undo with a message naming what
changed and who changed it (as far as the log knows). A node's deletion is undone through the
trash, and a new node undone into it, so nothing is lost either way. Undo and redo are graph
edits themselves: a locked pipeline refuses them, and so do the rules of each object (a locked
node is not renamed back, a cycle is not closed again, rights to delete a node hold).
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from ...core import dag, edit_log
from ...core.edit_log import Change
from ...errors import Conflict
from ...models import Edge, Group
from ...store import edges as edge_store
from ...store import events
from ...store import groups as group_store
from ...store import nodes as node_store
from ...store import trash as trash_store
from ...store import undo as undo_store
from ...store.database import Database
from ...store.undo import UndoEntry
from ..common import ServiceBase, Settings, Unit
from .edits import (
    invalidate_inputs,
    refresh_identities,
    require_unlocked,
    require_writable,
    sync_read_only,
)
from .removal import remove_node
from .trash import TrashService
from .undo_log import current_state


def _step(entry: UndoEntry | None, verb: str) -> dict[str, str] | None:
    return None if entry is None else {"label": f"{verb} {entry.label}", "edit": entry.label}


class UndoService(ServiceBase):
    def __init__(self, db: Database, settings: Settings, trash: TrashService) -> None:
        super().__init__(db, settings)
        self.trash = trash

    async def stacks(self, username: str, pipeline_id: str) -> dict[str, Any]:
        """What ``username``'s next undo and redo in this pipeline would do (None: nothing)."""
        async with self.db.transaction() as conn:
            await self.pipeline(conn, pipeline_id)
            undo = await undo_store.top(conn, pipeline_id, username, undone=False)
            redo = await undo_store.top(conn, pipeline_id, username, undone=True)
        return {"undo": _step(undo, "Undo"), "redo": _step(redo, "Redo")}

    async def undo(self, username: str, pipeline_id: str) -> dict[str, Any]:
        return await self._apply(username, pipeline_id, redo=False)

    async def redo(self, username: str, pipeline_id: str) -> dict[str, Any]:
        return await self._apply(username, pipeline_id, redo=True)

    async def _apply(self, username: str, pipeline_id: str, *, redo: bool) -> dict[str, Any]:
        verb = "redo" if redo else "undo"
        target, expected = ("after", "before") if redo else ("before", "after")
        async with self.unit() as unit:
            conn = unit.conn
            # Locks the pipeline's row too: one undo or redo of it at a time.
            await self.pipeline(conn, pipeline_id, editable=True)
            entry = await undo_store.top(conn, pipeline_id, username, undone=redo, lock=True)
            if entry is None:
                raise Conflict(f"nothing to {verb}: no edit of yours in this pipeline is left")
            why = f"cannot {verb} {entry.label}"
            for change in entry.changes:
                await self._check(conn, pipeline_id, entry, change, expected, why)
            for change in edit_log.in_order(entry.changes, target):
                await self._write(unit, username, pipeline_id, change, target, why)
            await undo_store.flip(conn, entry.id, undone=not redo, changes=entry.changes)
            await events.announce(conn, "pipeline.changed", pipeline_id=pipeline_id)
        return {"done": entry.label, **await self.stacks(username, pipeline_id)}

    async def _check(
        self,
        conn: AsyncConnection,
        pipeline_id: str,
        entry: UndoEntry,
        change: Change,
        expected: str,
        why: str,
    ) -> None:
        """Refuse, before anything is written, when the object is no longer as the edit (or
        its undo) left it, naming the change and who made it."""
        current = await current_state(conn, pipeline_id, change)
        differs = edit_log.difference(change["name"], change[expected], current)
        if differs:
            raise Conflict(f"{why}: {await self._since(conn, entry, change['key'], differs)}")
        kind = edit_log.kind_of(change)
        purged = kind == "node" and current is None
        if purged and await trash_store.get_item(conn, change["trash"]) is None:
            raise Conflict(
                f"{why}: {change['name']} was purged from Recently deleted since, so it "
                f"cannot come back"
            )
        if kind == "node" and change["before" if expected == "after" else "after"] is None:
            # It goes: only with the edges this edit made, never with a colleague's since.
            node_id = change["key"].split(":", 1)[1]
            leaving = {c["key"] for c in entry.changes if edit_log.kind_of(c) == "edge"}
            leaving.update(edit_log.edge_key(e) for e in change.get("edges", []))
            for edge in await edge_store.pipeline_edges(conn, pipeline_id):
                if node_id in (edge.source, edge.target) and (
                    edit_log.edge_key(edge.id) not in leaving
                ):
                    tags = await node_store.tags(conn, [edge.source, edge.target])
                    other = tags[edge.target if edge.source == node_id else edge.source]
                    differs = f"{change['name']} was connected to {other!r}"
                    since = await self._since(conn, entry, edit_log.edge_key(edge.id), differs)
                    raise Conflict(f"{why}: {since}")

    @staticmethod
    async def _since(conn: AsyncConnection, entry: UndoEntry, key: str, differs: str) -> str:
        """``differs`` with who made that change, when the log knows."""
        who = await undo_store.last_touch(conn, key, entry.seq, entry.id)
        return f"{differs}{f' by {who[0]}' if who else ''} since"

    async def _write(
        self,
        unit: Unit,
        username: str,
        pipeline_id: str,
        change: Change,
        target: str,
        why: str,
    ) -> None:
        """Make the object of ``change`` as its ``target`` state says."""
        kind, _, rest = change["key"].partition(":")
        wanted = change[target]
        if kind == "node":
            await self._write_node(unit, username, pipeline_id, change, wanted)
        elif kind == "member":
            await self._write_member(unit, pipeline_id, rest.rpartition(":")[2], wanted, why)
        elif kind == "edge":
            await self._write_edge(unit, pipeline_id, rest, change, wanted, why)
        else:
            await self._write_group(unit, pipeline_id, rest, wanted)

    async def _write_node(
        self, unit: Unit, username: str, pipeline_id: str, change: Change, wanted: Any
    ) -> None:
        node_id = change["key"].split(":", 1)[1]
        node = await node_store.member(unit.conn, pipeline_id, node_id)
        if wanted is None:
            item = await remove_node(unit, self, username, pipeline_id, node_id)
            change["trash"] = item.id
            return
        if node is None:
            await self.trash.restore_in(unit, username, change.pop("trash"))
            return
        own_lock = node.locked_by == {"kind": "node"}
        if own_lock and not wanted["locked"]:
            await node_store.update_node(unit.conn, node_id, locked=False)
        if (node.tag, node.notes) != (wanted["tag"], wanted["notes"]):
            refreshed = await node_store.member(unit.conn, pipeline_id, node_id)
            assert refreshed is not None
            require_unlocked(refreshed, "change its tag or notes")
            await node_store.update_node(
                unit.conn, node_id, tag=wanted["tag"], notes=wanted["notes"]
            )
            children = await node_store.children(unit.conn, node_id)
            await refresh_identities(unit, self.settings.data_path, [node_id, *children])
        if wanted["locked"] and not own_lock:
            await node_store.update_node(unit.conn, node_id, locked=True)
        if wanted["locked"] != own_lock:
            await sync_read_only(unit, self.settings.data_path, [node_id])

    async def _write_member(
        self, unit: Unit, pipeline_id: str, node_id: str, wanted: Any, why: str
    ) -> None:
        group_id = wanted["group"]
        if group_id is not None and await group_store.get_group(unit.conn, group_id) is None:
            raise Conflict(f"{why}: its group was deleted since")
        await node_store.set_positions(
            unit.conn, pipeline_id, {node_id: (wanted["x"], wanted["y"])}
        )
        await node_store.set_group(unit.conn, pipeline_id, [node_id], group_id)

    async def _write_edge(
        self, unit: Unit, pipeline_id: str, edge_id: str, change: Change, wanted: Any, why: str
    ) -> None:
        conn = unit.conn
        state = wanted or change["before"] or change["after"]
        source, target = state["source"], state["target"]
        ends = await node_store.members_by_id(conn, pipeline_id, [source, target])
        if target not in ends or (wanted is not None and source not in ends):
            raise Conflict(f"{why}: a node of {change['name']} was deleted since")
        require_writable(ends[target], "change its inputs")
        if wanted is None:
            await edge_store.delete_edges(conn, [edge_id])
        else:
            pairs = await edge_store.pipeline_pairs(conn, pipeline_id)
            cycle = dag.find_cycle(pairs, (source, target))
            if cycle:
                tags = await node_store.tags(conn, cycle)
                path = " -> ".join(tags[n] for n in cycle)
                raise Conflict(f"{why}: it would close a cycle made since: {path}")
            slots = {e.slot for e in await edge_store.parents_of(conn, [target])}
            if wanted["slot"] in slots:
                raise Conflict(
                    f"{why}: input slot {wanted['slot']} of {ends[target].tag!r} was taken since"
                )
            await edge_store.insert_edges(conn, [Edge(edge_id, source, target, wanted["slot"])])
        await invalidate_inputs(unit, [target])
        await refresh_identities(unit, self.settings.data_path, [target])

    @staticmethod
    async def _write_group(unit: Unit, pipeline_id: str, group_id: str, wanted: Any) -> None:
        if wanted is None:
            await group_store.delete_group(unit.conn, group_id)
            return
        group = Group(group_id, pipeline_id, **wanted)
        if await group_store.get_group(unit.conn, group_id) is None:
            await group_store.insert_group(unit.conn, group)
        else:
            await group_store.update_group(unit.conn, group)
