"""Operations that copy or share nodes: duplicate, reference, detach, branch, duplicate a whole
pipeline, merge. Plans come from ``dag``; this module applies them in one transaction, with the
new folders removed again if anything fails."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ...core import dag
from ...errors import Conflict, Invalid
from ...folders import node_folders as folders
from ...models import Edge, Node, Pipeline, Status, new_id
from ...store import edges as edge_store
from ...store import events
from ...store import groups as group_store
from ...store import nodes as node_store
from ...store import pipelines as pipeline_store
from ..common import ServiceBase, Unit
from .edits import load_graph, refresh_identities, require_unlocked, sync_read_only
from .removal import refused
from .undo_log import record_copies

# Where a copy lands when it shares a canvas with its original.
_OFFSET = 40.0


class CopyService(ServiceBase):
    async def _copy_nodes(
        self,
        unit: Unit,
        owner: str,
        target: Pipeline,
        originals: Sequence[Node],
        plan: dag.CopyPlan,
        *,
        with_data: bool,
        status: Status | None,
        offset: float = 0.0,
        prepared: dict[str, Path] | None = None,
    ) -> list[Edge]:
        """Make the planned copies: folders first (removed again on failure), then rows,
        memberships and input edges (returned). ``status`` None keeps each original's status. A
        folder in ``prepared`` (see ``_copy_aside``) is only renamed into place, and taken out
        of it."""
        rows, positions = [], []
        for node in originals:
            copy_id = plan.id_map[node.id]
            relative = f"{target.project_id}/{copy_id}"
            ready = (prepared or {}).pop(node.id, None)
            if ready is not None:
                path = folders.node_path(self.settings.data_path, relative)
                folders.publish_folder(ready, path)
            else:
                source = folders.node_path(self.settings.data_path, node.folder)
                # In a thread: even without data/ a node's code and reports can be large.
                path = await asyncio.to_thread(
                    partial(
                        folders.copy_node_folder,
                        source,
                        self.settings.data_path,
                        relative,
                        with_data=with_data,
                    )
                )
            unit.folders.undo.append(partial(folders.purge, path))
            copied_status = status or Status(node.status)
            if copied_status == Status.RUNNING:
                copied_status = Status.STALEDATA
            rows.append(
                {
                    "id": copy_id,
                    "project_id": target.project_id,
                    "tag": node.tag,
                    "notes": node.notes,
                    "kind": node.kind,
                    "status": copied_status.value,
                    "locked": False,
                    "owner": owner,
                    "folder": relative,
                }
            )
            positions.append((copy_id, node.x + offset, node.y + offset))
        await node_store.insert_nodes(unit.conn, rows)
        await node_store.add_members(unit.conn, target.id, positions)
        edges = [Edge(new_id("edge"), p, c, slot) for p, c, slot in plan.edges]
        await edge_store.insert_edges(unit.conn, edges)
        return edges

    async def _copy_aside(
        self, pipeline_id: str, node_ids: Sequence[str] | None, target_pipeline_id: str
    ) -> dict[str, Path]:
        """Copies with data, made before the operation's transaction: the folders of the
        pipeline's nodes (only ``node_ids``, if given) under hidden names in the target's project
        folder, in a thread. A copy of gigabytes then holds no row lock and keeps no transaction
        open; the transaction only renames the copies into place. Returns node id -> copy."""
        async with self.db.transaction() as conn:
            target = await self.pipeline(conn, target_pipeline_id)
            nodes = await node_store.members(conn, pipeline_id)
        wanted = set(node_ids) if node_ids is not None else None
        prepared: dict[str, Path] = {}
        try:
            for node in nodes:
                if wanted is not None and node.id not in wanted:
                    continue
                prepared[node.id] = await asyncio.to_thread(
                    partial(
                        folders.copy_node_folder,
                        folders.node_path(self.settings.data_path, node.folder),
                        self.settings.data_path,
                        f"{target.project_id}/{new_id('node')}",
                        with_data=True,
                        publish=False,
                    )
                )
        except BaseException:
            await _purge_unused(prepared)
            raise
        return prepared

    async def duplicate_nodes(
        self,
        owner: str,
        pipeline_id: str,
        node_ids: list[str],
        target_pipeline_id: str,
        *,
        with_data: bool,
    ) -> dict[str, str]:
        """Copy nodes into this or another pipeline. Edges among them and from outside parents
        are kept with their slots. Copies with data are ``staledata`` (their outputs were not
        made by them), without data ``ready``. Returns original id -> copy id."""
        prepared = (
            await self._copy_aside(pipeline_id, node_ids, target_pipeline_id) if with_data else {}
        )
        try:
            return await self._duplicate_nodes(
                owner, pipeline_id, node_ids, target_pipeline_id, with_data, prepared
            )
        finally:
            await _purge_unused(prepared)

    async def _duplicate_nodes(
        self,
        owner: str,
        pipeline_id: str,
        node_ids: list[str],
        target_pipeline_id: str,
        with_data: bool,
        prepared: dict[str, Path],
    ) -> dict[str, str]:
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            target = await self.pipeline(unit.conn, target_pipeline_id, editable=True)
            graph = await load_graph(unit, pipeline_id)
            originals = [graph.member(node_id, pipeline_id) for node_id in node_ids]
            target_members = (
                set(graph.nodes)
                if target.id == pipeline_id
                else {n.id for n in await node_store.members(unit.conn, target.id)}
            )
            inputs = await edge_store.parents_of(unit.conn, node_ids)
            plan = dag.plan_copy(
                node_ids,
                [(e.source, e.target, e.slot) for e in inputs],
                available=target_members,
                new_id=lambda: new_id("node"),
            )
            edges = await self._copy_nodes(
                unit,
                owner,
                target,
                originals,
                plan,
                with_data=with_data,
                status=Status.STALEDATA if with_data else Status.READY,
                offset=_OFFSET if target.id == pipeline_id else 0.0,
                prepared=prepared,
            )
            await record_copies(unit, owner, target.id, list(plan.id_map.values()), edges)
            await refresh_identities(unit, self.settings.data_path, plan.id_map.values())
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=target.id)
        return plan.id_map

    async def reference_nodes(
        self, pipeline_id: str, node_ids: list[str], target_pipeline_id: str
    ) -> None:
        """Share nodes with another pipeline: same folders, read-only from now on. A node's
        parents must come along or already be in the target, so its inputs exist there too."""
        async with self.unit() as unit:
            await self.pipeline(unit.conn, pipeline_id)
            target = await self.pipeline(unit.conn, target_pipeline_id, editable=True)
            # After the lookups: an unknown id is a 404 whatever else is wrong.
            if pipeline_id == target_pipeline_id:
                raise Invalid("target_pipeline_id must be another pipeline")
            graph = await load_graph(unit, pipeline_id)
            originals = [graph.member(node_id, pipeline_id) for node_id in node_ids]
            target_members = {n.id for n in await node_store.members(unit.conn, target.id)}
            already = [n.tag for n in originals if n.id in target_members]
            if already:
                raise Conflict(f"{target.tag!r} already holds {', '.join(map(repr, already))}")
            inputs = await edge_store.parents_of(unit.conn, node_ids)
            dag.check_reference(
                node_ids, [(e.source, e.target) for e in inputs], available=target_members
            )
            await node_store.add_members(
                unit.conn, target.id, [(n.id, n.x, n.y) for n in originals]
            )
            await sync_read_only(unit, self.settings.data_path, node_ids)
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=target.id)

    async def detach(self, owner: str, pipeline_id: str, node_id: str) -> dict[str, str]:
        """Give this pipeline private copies (with data) of the shared nodes in the subtree
        below ``node_id``; the originals stay in their other pipelines."""
        async with self.unit() as unit:
            pipeline = await self.pipeline(unit.conn, pipeline_id, editable=True)
            graph = await load_graph(unit, pipeline_id)
            start = graph.member(node_id, pipeline_id)
            require_unlocked(start, "detach it")
            referenced = {n.id for n in graph.nodes.values() if n.referenced}
            plan = dag.plan_detach(
                list(graph.nodes),
                [(e.source, e.target, e.slot) for e in graph.edges],
                referenced,
                node_id,
                new_id=lambda: new_id("node"),
            )
            originals = [graph.nodes[old] for old in plan.copy.id_map]
            # The shared originals leave this pipeline: deleting them here, in rights' terms.
            for original in originals:
                if original.referenced:
                    self.rights.require_node(
                        owner,
                        original.owner,
                        pipeline.owner,
                        f"detach node {original.tag!r} ({original.id}) from pipeline "
                        f"{pipeline.tag!r}",
                    )
            old_edges = {(e.source, e.target): e.id for e in graph.edges}
            removed = [old_edges[pair] for pair in plan.removed_edges]
            await edge_store.delete_edges(unit.conn, removed)
            await self._copy_nodes(
                unit, owner, pipeline, originals, plan.copy, with_data=True, status=None
            )
            for old in plan.copy.id_map:
                if not await node_store.remove_member(unit.conn, pipeline_id, old):
                    raise refused(f"node {old} from pipeline {pipeline.tag!r}")
            await sync_read_only(unit, self.settings.data_path, list(plan.copy.id_map))
            rewired = {child for _, child, _ in plan.copy.edges}
            await refresh_identities(unit, self.settings.data_path, rewired)
            await events.announce(unit.conn, "pipeline.changed", pipeline_id=pipeline_id)
        return plan.copy.id_map

    async def _new_pipeline(
        self,
        unit: Unit,
        owner: str,
        source: Pipeline,
        tag: str,
        relation: str,
        parents: Sequence[str],
    ) -> Pipeline:
        tag = await _free_tag(unit, tag)
        pipeline = await pipeline_store.insert_pipeline(
            unit.conn, new_id("pipeline"), source.project_id, tag, source.notes, owner
        )
        await pipeline_store.add_lineage(unit.conn, pipeline.id, list(parents), relation)
        await events.announce(
            unit.conn, "pipeline.created", pipeline_id=pipeline.id, project_id=pipeline.project_id
        )
        return pipeline

    async def branch(self, owner: str, pipeline_id: str, node_id: str) -> Pipeline:
        """A new pipeline where ``node_id`` and its descendants are fresh copies (code, no data)
        and everything upstream is shared by reference."""
        async with self.unit() as unit:
            source = await self.pipeline(unit.conn, pipeline_id)
            graph = await load_graph(unit, pipeline_id)
            graph.member(node_id, pipeline_id)
            plan = dag.plan_branch(
                list(graph.nodes),
                [(e.source, e.target, e.slot) for e in graph.edges],
                node_id,
                new_id=lambda: new_id("node"),
            )
            branch = await self._new_pipeline(
                unit, owner, source, f"{source.tag} branch", "branch", [source.id]
            )
            shared = [graph.nodes[n] for n in plan.shared]
            await node_store.add_members(unit.conn, branch.id, [(n.id, n.x, n.y) for n in shared])
            originals = [graph.nodes[n] for n in plan.copy.id_map]
            await self._copy_nodes(
                unit, owner, branch, originals, plan.copy, with_data=False, status=Status.READY
            )
            await sync_read_only(unit, self.settings.data_path, list(plan.shared))
            await refresh_identities(unit, self.settings.data_path, plan.copy.id_map.values())
        return branch

    async def duplicate_pipeline(
        self, owner: str, pipeline_id: str, *, with_data: bool
    ) -> Pipeline:
        """A full copy of a pipeline in the same project: every node, edge and group. With data
        the copies keep their statuses, without they start ``ready``."""
        prepared = await self._copy_aside(pipeline_id, None, pipeline_id) if with_data else {}
        try:
            return await self._duplicate_pipeline(owner, pipeline_id, with_data, prepared)
        finally:
            await _purge_unused(prepared)

    async def _duplicate_pipeline(
        self, owner: str, pipeline_id: str, with_data: bool, prepared: dict[str, Path]
    ) -> Pipeline:
        async with self.unit() as unit:
            source = await self.pipeline(unit.conn, pipeline_id)
            graph = await load_graph(unit, pipeline_id)
            inputs = await edge_store.parents_of(unit.conn, list(graph.nodes))
            plan = dag.plan_copy(
                list(graph.nodes),
                [(e.source, e.target, e.slot) for e in inputs],
                available=set(),
                new_id=lambda: new_id("node"),
            )
            copy = await self._new_pipeline(
                unit, owner, source, f"{source.tag} copy", "duplicate", [source.id]
            )
            await self._copy_nodes(
                unit,
                owner,
                copy,
                list(graph.nodes.values()),
                plan,
                with_data=with_data,
                status=None if with_data else Status.READY,
                prepared=prepared,
            )
            await _copy_groups(unit, source.id, copy.id, graph, plan.id_map)
            await refresh_identities(unit, self.settings.data_path, plan.id_map.values())
        return copy

    async def merge(self, owner: str, pipeline_ids: list[str]) -> Pipeline:
        """A new pipeline holding every node of the given pipelines (shared, not copied)."""
        if len(pipeline_ids) < 2:
            raise Invalid("pipeline_ids must name at least two pipelines")
        async with self.unit() as unit:
            sources = [await self.pipeline(unit.conn, p) for p in pipeline_ids]
            projects = {p.project_id for p in sources}
            if len(projects) > 1:
                raise Conflict("only pipelines of one project can be merged")
            merged = await self._new_pipeline(
                unit, owner, sources[0], " + ".join(p.tag for p in sources), "merge", pipeline_ids
            )
            seen: dict[str, tuple[str, float, float]] = {}
            for source in sources:
                for node in await node_store.members(unit.conn, source.id):
                    seen.setdefault(node.id, (node.id, node.x, node.y))
            await node_store.add_members(unit.conn, merged.id, list(seen.values()))
            await sync_read_only(unit, self.settings.data_path, list(seen))
        return merged


async def _free_tag(unit: Unit, wanted: str) -> str:
    """``wanted``, or ``wanted 2``, ``wanted 3``... whichever no pipeline has yet."""
    tag, number = wanted, 1
    while await pipeline_store.tag_taken(unit.conn, tag):
        number += 1
        tag = f"{wanted} {number}"
    return tag


async def _copy_groups(
    unit: Unit, source_id: str, target_id: str, graph: Any, id_map: dict[str, str]
) -> None:
    for group in await group_store.pipeline_groups(unit.conn, source_id):
        members = [id_map[n.id] for n in graph.nodes.values() if n.group_id == group.id]
        group.id, group.pipeline_id = new_id("group"), target_id
        await group_store.insert_group(unit.conn, group)
        await node_store.set_group(unit.conn, target_id, members, group.id)


async def _purge_unused(prepared: dict[str, Path]) -> None:
    """Remove the copies made aside that the operation did not take (it failed, or a node
    left the pipeline meanwhile)."""
    unused = list(prepared.values())
    prepared.clear()
    for path in unused:
        await asyncio.to_thread(folders.purge, path)
