"""Nodes in a pipeline: create, edit, delete, parameters, manual status, outputs, locking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ...core import dag, layout, mapping
from ...errors import Conflict, Invalid, NotFound
from ...fingerprint import hashing
from ...folders import item_folders, kernels, lab_paths, parameters
from ...folders import node_folders as folders
from ...models import Node, NodeKind, Status, TrashItem, new_id
from ...store import edges as edge_store
from ...store import events
from ...store import fingerprints as fp_store
from ...store import items as item_store
from ...store import nodes as node_store
from ...store import runs as run_store
from ...store.database import Database
from ..common import ServiceBase, Settings, clean_tag, with_warnings
from ..freshness.staleness import StalenessService
from ..runs.environments import state as environment_state
from ..runs.running import job_view
from .edits import (
    apply_statuses,
    invalidate_inputs,
    load_graph,
    refresh_identities,
    require_unlocked,
    require_writable,
    sync_read_only,
)
from .removal import remove_node
from .undo_log import member_change, node_change, record


def node_kind(kind: str | None) -> NodeKind:
    if kind is None:
        return NodeKind.PYTHON
    try:
        return NodeKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in NodeKind)
        raise Invalid(f"kind must be one of {choices}, not {kind!r}") from None


class NodeService(ServiceBase):
    def __init__(self, db: Database, settings: Settings, staleness: StalenessService) -> None:
        super().__init__(db, settings)
        self.staleness = staleness
        # Set by Service: the batch jobs of a node's executions this server watches (see
        # Running.jobs_of), for the node view's ``job``.
        self.jobs_of: Callable[[str], dict[str | None, tuple[str, str]]] = lambda _: {}

    async def create(
        self,
        owner: str,
        pipeline_id: str,
        *,
        tag: str | None = None,
        kind: str | None = None,
        position: tuple[float, float] | None = None,
        undoable: bool = True,
    ) -> dict[str, Any]:
        """A new node with its folder made from the template of its kind. Fast: no environment
        is built here. Without a ``position`` it gets a free place (see layout.py).
        ``undoable`` False: not on the owner's undo stack (the example's own making)."""
        node_kind_ = node_kind(kind)
        node_id = new_id("node")
        tag = clean_tag(tag) or node_id
        async with self.unit() as unit:
            pipeline = await self.pipeline(unit.conn, pipeline_id, editable=True)
            relative = f"{pipeline.project_id}/{node_id}"
            identity: dict[str, Any] = {
                "node_id": node_id,
                "tag": tag,
                "kind": node_kind_.value,
                "project_id": pipeline.project_id,
                "parents": [],
            }
            path = folders.create_node_folder(
                self.settings.data_path, relative, node_kind_, identity
            )
            unit.folders.undo.append(lambda: folders.purge(path))
            row = {
                "id": node_id,
                "project_id": pipeline.project_id,
                "tag": tag,
                "notes": "",
                "kind": node_kind_.value,
                "status": Status.READY.value,
                "locked": False,
                "owner": owner,
                "folder": relative,
            }
            await node_store.insert_nodes(unit.conn, [row])
            if position is None:
                position = layout.place(await node_store.positions(unit.conn, pipeline_id))
            await node_store.add_members(unit.conn, pipeline_id, [(node_id, *position)])
            node = await node_store.member(unit.conn, pipeline_id, node_id)
            assert node is not None
            if undoable:
                added = [node_change(None, node)]
                await record(unit, owner, pipeline_id, f"new node {tag!r}", added)
            await refresh_identities(unit, self.settings.data_path, [node_id])
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
        return node.to_json(str(self.settings.data_path))

    async def get(self, node_id: str) -> dict[str, Any]:
        """A node with the pipelines that hold it, its kernel, its folder as the file browser
        sees it (``lab_path``, None when out of its reach) and its environment's state (see
        ``environments.state``)."""
        async with self.db.transaction() as conn:
            holders = await node_store.pipelines_holding(conn, node_id)
            if not holders:
                raise NotFound(f"no node with id {node_id!r}")
            node = await node_store.member(conn, holders[0], node_id)
            made_by = await run_store.made_by(conn, node_id)
        assert node is not None
        folder = folders.node_path(self.settings.data_path, node.folder)
        return {
            **node.to_json(str(self.settings.data_path)),
            "made_by": made_by,
            "pipelines": holders,
            "kernel": kernels.kernel_name(node_id),
            "lab_path": lab_paths.lab_path(self.settings.lab_data_prefix, node.folder),
            "environment": await asyncio.to_thread(environment_state, folder),
            "job": job_view(self.jobs_of(node_id)),
        }

    async def update(
        self,
        username: str,
        pipeline_id: str,
        node_id: str,
        *,
        tag: str | None = None,
        notes: str | None = None,
        position: tuple[float, float] | None = None,
        locked: bool | None = None,
        undoable: bool = True,
    ) -> dict[str, Any]:
        """Edit a node, on ``username``'s undo stack unless ``undoable`` is False. Locking makes
        its folder read-only on disk; a locked node accepts nothing but being unlocked (and
        moved: layout is not content). ``locked`` is the node's own lock: a locked pipeline
        holding it keeps it locked whatever this says."""
        tag = clean_tag(tag)
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            node = await node_store.member(unit.conn, pipeline_id, node_id)
            if node is None:
                raise NotFound(f"pipeline {pipeline_id} has no node {node_id!r}")
            original = node
            locked_itself = node.locked_by == {"kind": "node"}  # its own lock wins, see locks.py
            lock_changes = locked is not None and locked != locked_itself
            if lock_changes and not locked:
                # Unlocked first, so that a tag or notes in the same request are judged on the
                # lock that remains (a locked pipeline holding it).
                await node_store.update_node(unit.conn, node_id, locked=False)
                node = await node_store.member(unit.conn, pipeline_id, node_id)
                assert node is not None
            if (tag, notes) != (None, None):
                require_unlocked(node, "change its tag or notes")
                await node_store.update_node(unit.conn, node_id, tag=tag, notes=notes)
            if lock_changes:
                await node_store.update_node(unit.conn, node_id, locked=locked)
                await sync_read_only(unit, self.settings.data_path, [node_id])
            if position is not None:
                await node_store.set_positions(unit.conn, pipeline_id, {node_id: position})
            if tag is not None:
                # Children know their parents by tag too: their identity files change.
                children = await node_store.children(unit.conn, node_id)
                await refresh_identities(unit, self.settings.data_path, [node_id, *children])
            updated = await node_store.member(unit.conn, pipeline_id, node_id)
            assert updated is not None
            if undoable:
                label = _update_label(original, updated)
                changes = [node_change(original, updated)]
                changes.append(member_change(pipeline_id, original, updated))
                await record(unit, username, pipeline_id, label, changes)
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
        return with_warnings(updated.to_json(str(self.settings.data_path)), unit)

    async def delete(self, username: str, pipeline_id: str, node_id: str) -> TrashItem:
        """Remove a node from a pipeline, into the trash (see ``remove_node``); undoable."""
        async with self.unit() as unit:
            node = await node_store.member(unit.conn, pipeline_id, node_id)
            # The edges that go with it: a redo takes them again, and no others.
            edges = [
                edge.id
                for edge in await edge_store.pipeline_edges(unit.conn, pipeline_id)
                if node_id in (edge.source, edge.target)
            ]
            item = await remove_node(unit, self, username, pipeline_id, node_id)
            assert node is not None
            gone = node_change(node, None, trash=item.id, edges=edges)
            await record(unit, username, pipeline_id, f"deletion of node {node.tag!r}", [gone])
        return item

    async def get_parameters(self, node_id: str) -> str:
        async with self.db.transaction() as conn:
            relative = await node_store.folders_of(conn, [node_id])
        if not relative:
            raise NotFound(f"no node with id {node_id!r}")
        return parameters.read_parameters_text(
            folders.node_path(self.settings.data_path, relative[0])
        )

    async def set_parameters(self, node_id: str, content: str) -> dict[str, Any]:
        """Save ``node_parameters.yaml``. Invalid YAML is refused with its line; a real change
        makes the node's outputs (if any) and its descendants' stale."""
        # Parsing is bounded but CPU work: a thread keeps the event loop answering meanwhile.
        new_values = await asyncio.to_thread(parameters.check_parameters, content)
        async with self.unit() as unit:
            holders = await node_store.pipelines_holding(unit.conn, node_id)
            if not holders:
                raise NotFound(f"no node with id {node_id!r}")
            node = await node_store.member(unit.conn, holders[0], node_id)
            assert node is not None
            require_writable(node, "change its parameters")
            path = folders.node_path(self.settings.data_path, node.folder)
            declared = mapping.parse_map(new_values)
            if declared is not None:
                await self._check_map(unit.conn, node_id, path, declared)
            else:
                await item_store.forget(unit.conn, [node_id])
            previous_text = parameters.read_parameters_text(path)
            previous = await asyncio.to_thread(parameters.parse_parameters_or_none, previous_text)
            # Scheduling keys (timeout, retries, resources...) do not change what a node makes.
            if previous is None or hashing.counted(previous) != hashing.counted(new_values):
                await invalidate_inputs(unit, [node_id])
            unit.touched.add(node_id)
            await asyncio.to_thread(parameters.write_parameters, path, content)
            unit.folders.undo.append(lambda: parameters.write_parameters(path, previous_text))
            await refresh_identities(unit, self.settings.data_path, [node_id])
            for pipeline_id in holders:
                await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
        return {"content": content, "parameters": new_values}

    async def _check_map(
        self, conn: Any, node_id: str, folder: Path, declared: mapping.Declaration
    ) -> None:
        """A declaration that can already be known to fail is refused as it is saved."""
        data_path = self.settings.data_path
        relative = await edge_store.parent_folders(conn, node_id)
        parents = {slot: folders.node_path(data_path, r) for slot, r in relative.items()}
        await asyncio.to_thread(
            item_folders.check, folder, declared, self.settings.max_items, parents
        )

    async def set_status(
        self, username: str, pipeline_id: str, node_ids: list[str], status: str
    ) -> None:
        """The manual "set completed / stale data" for several nodes in one go, applied in
        topological order so the result never depends on the order of ``node_ids``.

        "Set completed" accepts each node as it is now: its current fingerprint is recorded.
        "Set stale" is stored: the node re-runs at the next run whatever its fingerprint."""
        try:
            target = Status(status)
        except ValueError:
            raise Invalid("status must be completed or staledata") from None
        if target not in (Status.COMPLETED, Status.STALEDATA):
            raise Invalid("status must be completed or staledata")
        accepted = (await self.staleness.now(node_ids))[0] if target is Status.COMPLETED else {}
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            graph = await load_graph(unit, pipeline_id)
            for node_id in node_ids:
                node = graph.member(node_id, pipeline_id)
                require_writable(node, "set its status")
                if node.status == Status.RUNNING.value:
                    raise Conflict(f"node {node.tag!r} ({node.id}) is running: kill it first")
            changes = dag.manual_status_plan(graph.statuses, graph.pairs, node_ids, target)
            await apply_statuses(unit, changes)
            if target is Status.STALEDATA:
                await fp_store.mark_stale(unit.conn, node_ids, username)
            for node_id, now in accepted.items():
                await fp_store.accept(
                    unit.conn,
                    node_id,
                    fingerprint=now.fingerprint,
                    parts=now.parts.to_json(),
                    outputs=now.scan.outputs or "",
                )
            unit.touched.update(node_ids)
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)

    async def clear_outputs(self, pipeline_id: str, node_ids: list[str]) -> None:
        """Empty ``data/`` of each node; it becomes ready and its descendants' outputs stale."""
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            graph = await load_graph(unit, pipeline_id)
            nodes = [graph.member(node_id, pipeline_id) for node_id in node_ids]
            for node in nodes:
                require_writable(node, "clear its outputs")
                if node.status == Status.RUNNING.value:
                    raise Conflict(f"node {node.tag!r} ({node.id}) is running: kill it first")
            changes = dag.invalidate(graph.statuses, graph.pairs, node_ids)
            changes.update({node_id: Status.READY for node_id in node_ids})
            await apply_statuses(unit, changes)
            await fp_store.forget_outputs(unit.conn, node_ids)
            await item_store.forget(unit.conn, node_ids)
            unit.touched.update(node_ids)
            for node in nodes:
                path = folders.node_path(self.settings.data_path, node.folder)
                aside = folders.set_aside_outputs(path)
                unit.folders.undo.append(partial(folders.restore_outputs, path, aside))
                unit.folders.finish.append(partial(folders.purge, aside))
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)


def _update_label(before: Node, after: Node) -> str:
    """How the undo stack names an edit of a node: its most visible change."""
    name = f"node {before.tag!r}"
    if before.tag != after.tag:
        return f"rename of {name}"
    if before.notes != after.notes:
        return f"notes of {name}"
    if before.locked_by != after.locked_by:
        return f"{'lock' if after.locked_by else 'unlock'} of {name}"
    return f"move of {name}"
