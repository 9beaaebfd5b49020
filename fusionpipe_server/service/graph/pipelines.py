"""Pipelines: create, list, the whole graph in one read, tag, notes, move, lock, delete, layout."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from psycopg import AsyncConnection

from ...core.edit_log import count
from ...errors import Conflict, NotFound
from ...models import Pipeline, Status, TrashItem, new_id
from ...store import events
from ...store import graph as graph_store
from ...store import groups as group_store
from ...store import nodes as node_store
from ...store import pipelines as pipeline_store
from ...store import projects as project_store
from ..common import ServiceBase, clean_tag, with_warnings
from .edges import checked_size
from .edits import sync_read_only
from .removal import trash_pipelines
from .undo_log import group_change, member_change, record

# Where a group's box goes, and its new size (None: unchanged).
GroupBox = tuple[tuple[float, float], tuple[float, float] | None]


async def ensure_tag_free(conn: AsyncConnection, tag: str, pipeline_id: str | None = None) -> None:
    if await pipeline_store.tag_taken(conn, tag, other_than=pipeline_id):
        raise Conflict(f"another pipeline is already tagged {tag!r}: pipeline tags are unique")


class PipelineService(ServiceBase):
    # Set by Service: a fetched graph is re-checked for staleness in the background.
    on_fetch: Callable[[str], None] = staticmethod(lambda pipeline_id: None)

    async def list(self, project_id: str | None = None) -> list[Pipeline]:
        async with self.db.transaction() as conn:
            return await pipeline_store.list_pipelines(conn, project_id)

    async def find(self, id_or_tag: str) -> Pipeline:
        """A pipeline by id, or else by its (unique) tag."""
        async with self.db.transaction() as conn:
            pipeline = await pipeline_store.get_pipeline(conn, id_or_tag)
            if pipeline is None:
                pipeline = await pipeline_store.get_pipeline_by_tag(conn, id_or_tag)
        if pipeline is None:
            raise NotFound(f"no pipeline with id or tag {id_or_tag!r}")
        return pipeline

    async def create(
        self, owner: str, project_id: str, tag: str | None = None, notes: str = ""
    ) -> Pipeline:
        pipeline_id = new_id("pipeline")
        tag = clean_tag(tag) or pipeline_id
        async with self.db.transaction() as conn:
            if await project_store.get_project(conn, project_id, for_update=True) is None:
                raise NotFound(f"no project with id {project_id!r}")
            await ensure_tag_free(conn, tag)
            pipeline = await pipeline_store.insert_pipeline(
                conn, pipeline_id, project_id, tag, notes, owner
            )
            await events.announce(
                conn, "pipeline.created", pipeline_id=pipeline_id, project_id=project_id
            )
        return pipeline

    async def graph(self, pipeline_id: str) -> dict[str, Any]:
        """The pipeline with every node, edge and group."""
        return dict(json.loads(await self.graph_json(pipeline_id)))

    async def graph_json(self, pipeline_id: str) -> str:
        """``graph`` as JSON text, built by the database in one query whatever its size."""
        async with self.db.transaction() as conn:
            text = await graph_store.graph_json(conn, pipeline_id, str(self.settings.data_path))
        if text is None:
            raise NotFound(f"no pipeline with id {pipeline_id!r}")
        self.on_fetch(pipeline_id)
        return text

    async def update(
        self,
        username: str,
        pipeline_id: str,
        *,
        tag: str | None = None,
        notes: str | None = None,
        project_id: str | None = None,
        locked: bool | None = None,
    ) -> dict[str, Any]:
        """Change fields; a locked pipeline accepts nothing but being unlocked first.

        Locking freezes every node it holds (store/locks.py derives that), so it is refused
        while one of them runs, and their folders become read-only; unlocking gives write
        access back to those that nothing else locks."""
        async with self.unit() as unit:
            conn = unit.conn
            # The row lock orders this against runs claiming its nodes (see the claim query).
            pipeline = await pipeline_store.get_pipeline(conn, pipeline_id, for_update=True)
            if pipeline is None:
                raise NotFound(f"no pipeline with id {pipeline_id!r}")
            lock_changes = locked is not None and locked != pipeline.locked
            moves = project_id is not None and project_id != pipeline.project_id
            if lock_changes or moves:
                verb = "move" if moves else ("lock" if locked else "unlock")
                self.rights.require(
                    username, pipeline.owner, f"{verb} pipeline {pipeline.tag!r} ({pipeline.id})"
                )
            members = await node_store.members(conn, pipeline_id) if lock_changes else []
            running = [n for n in members if n.status == Status.RUNNING.value]
            if locked and running:
                names = ", ".join(f"{n.tag!r} ({n.id})" for n in running)
                raise Conflict(
                    f"pipeline {pipeline.tag!r} cannot be locked while its nodes run: {names}; "
                    f"wait for them to finish or kill them first"
                )
            changes_more_than_lock = (tag, notes, project_id) != (None, None, None)
            if pipeline.locked and locked is not False and changes_more_than_lock:
                raise Conflict(
                    f"pipeline {pipeline.tag!r} ({pipeline.id}) is locked: unlock it first"
                )
            tag = clean_tag(tag)
            if tag is not None:
                await ensure_tag_free(conn, tag, pipeline_id)
            if project_id is not None and project_id != pipeline.project_id:
                target = await project_store.get_project(conn, project_id, for_update=True)
                if target is None:
                    raise NotFound(f"no project with id {project_id!r}")
            updated = await pipeline_store.update_pipeline(
                conn, pipeline_id, tag=tag, notes=notes, project_id=project_id, locked=locked
            )
            if project_id is not None and project_id != pipeline.project_id:
                await project_store.rehome_nodes(conn, pipeline.project_id)
            if lock_changes:
                await sync_read_only(unit, self.settings.data_path, [n.id for n in members])
                # The derived lock of nodes it shares changed on other canvases too.
                for other in await node_store.pipelines_sharing(conn, pipeline_id):
                    await events.announce(conn, "pipeline.changed", pipeline_id=other)
            await events.announce(conn, "pipeline.updated", pipeline_id=pipeline_id)
        return with_warnings(updated.to_json(), unit)

    async def delete(self, username: str, pipeline_id: str) -> TrashItem:
        """Delete a pipeline into the trash, with the nodes no other pipeline holds."""
        async with self.unit() as unit:
            pipeline = await pipeline_store.get_pipeline(unit.conn, pipeline_id, for_update=True)
            if pipeline is None:
                raise NotFound(f"no pipeline with id {pipeline_id!r}")
            self.rights.require(
                username, pipeline.owner, f"delete pipeline {pipeline.tag!r} ({pipeline.id})"
            )
            await self.pipeline(unit.conn, pipeline_id, editable=True)
            return await trash_pipelines(unit, self.settings, username, [pipeline])

    async def move_nodes(
        self,
        username: str,
        pipeline_id: str,
        positions: dict[str, tuple[float, float]],
        groups: dict[str, GroupBox] | None = None,
        *,
        auto_layout: bool = False,
    ) -> None:
        """Save positions after a drag or an auto layout, all nodes in one statement, with the
        boxes of the ``groups`` that moved too: one edit on ``username``'s undo stack. Layout
        is not the graph, so a locked pipeline still accepts it."""
        groups = groups or {}
        async with self.unit() as unit:
            conn = unit.conn
            await self.pipeline(conn, pipeline_id)
            before = await node_store.members_by_id(conn, pipeline_id, list(positions))
            unknown = sorted(set(positions) - set(before))
            if unknown:
                raise NotFound(f"pipeline {pipeline_id} has no node(s) {', '.join(unknown)}")
            await node_store.set_positions(conn, pipeline_id, positions)
            after = await node_store.members_by_id(conn, pipeline_id, list(positions))
            changes = [member_change(pipeline_id, before[n], after[n]) for n in positions]
            for group_id, (where, size) in groups.items():
                group = await group_store.get_group(conn, group_id)
                if group is None or group.pipeline_id != pipeline_id:
                    raise NotFound(f"pipeline {pipeline_id} has no group {group_id!r}")
                moved = replace(group, x=where[0], y=where[1])
                if size is not None:
                    moved.width, moved.height = checked_size(size)
                await group_store.update_group(conn, moved)
                changes.append(group_change(group, moved))
            if auto_layout:
                label = "auto layout"
            elif len(positions) == 1:
                label = f"move of node {before[next(iter(positions))].tag!r}"
            elif positions:
                label = f"move of {count(len(positions), 'node')}"
            else:
                label = f"move of {count(len(groups), 'group')}"
            await record(unit, username, pipeline_id, label, changes)
            await events.announce(conn, "pipeline.layout", pipeline_id=pipeline_id)
