"""Export a pipeline to a git-friendly folder or a zip, and import one as a new pipeline.

The document itself (``pipeline.yaml``) is built in core/pipeline_build.py and checked in
core/pipeline_file.py, the files in folders/exchange.py; this module reads the graph and writes
the rows. An import is checked whole before anything is created and is one transaction whose
node folders go again if it fails.
"""

from __future__ import annotations

import asyncio
import stat
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from psycopg import AsyncConnection

from ... import __version__
from ...core import pipeline_build, pipeline_file
from ...errors import Conflict, NotFound
from ...folders import exchange
from ...folders import node_folders as folders
from ...folders.permissions import set_writable
from ...models import Edge, Group, Node, Pipeline, Project, Status, new_id
from ...store import edges as edge_store
from ...store import events
from ...store import groups as group_store
from ...store import nodes as node_store
from ...store import pipelines as pipeline_store
from ...store import projects as project_store
from ..common import ServiceBase, Unit, clean_tag
from .copies import _free_tag
from .edits import refresh_identities


@dataclass(frozen=True)
class Export:
    """An export before it is written: ``pipeline.yaml``'s text and the node code files."""

    tag: str
    document: str
    folders: list[str]  # each node's code/, in the export
    files: list[exchange.ExportFile]


class TransferService(ServiceBase):
    async def export(self, pipeline_id: str) -> Export:
        """Read the pipeline in one transaction, then gather its files off the event loop."""
        async with self.db.transaction() as conn:
            pipeline = await self.pipeline(conn, pipeline_id)
            members = await node_store.members(conn, pipeline_id)
            edges = await edge_store.pipeline_edges(conn, pipeline_id)
            groups = await group_store.pipeline_groups(conn, pipeline_id)
        return await asyncio.to_thread(self._gather, pipeline, members, edges, groups)

    def _gather(
        self, pipeline: Pipeline, members: list[Node], edges: list[Edge], groups: list[Group]
    ) -> Export:
        tags = {node.id: node.tag for node in members}
        inputs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for edge in edges:
            inputs[edge.target].append((edge.slot, tags.get(edge.source, "")))
        sources, code = [], {}
        for node in members:
            folder = folders.node_path(self.settings.data_path, node.folder)
            code[node.id] = exchange.code_files(folder / "code")
            # Nodes that share a tag are told apart by what an import keeps: never by id.
            tie_break = (
                tuple(sorted(inputs[node.id])),
                node.kind,
                node.notes,
                node.y,
                node.x,
                exchange.digest(code[node.id]),
            )
            sources.append(
                pipeline_build.SourceNode(
                    node.id,
                    node.tag,
                    node.kind,
                    node.notes,
                    node.x,
                    node.y,
                    node.group_id,
                    tie_break,
                )
            )
        document, names = pipeline_build.build(
            pipeline.tag,
            pipeline.notes,
            __version__,
            sources,
            [(e.source, e.target, e.slot) for e in edges],
            [
                pipeline_build.SourceGroup(g.id, g.tag, g.collapsed, g.x, g.y, g.width, g.height)
                for g in groups
            ],
        )
        code_folders = {n: f"{pipeline_file.NODES_FOLDER}/{names[n]}/code" for n in code}
        files = [
            exchange.ExportFile(
                f"{code_folders[node_id]}/{relative}", path, exchange.is_executable(path)
            )
            for node_id, entries in code.items()
            for relative, path in entries
        ]
        return Export(
            pipeline.tag, pipeline_file.dump(document), sorted(code_folders.values()), files
        )

    async def export_to_folder(self, pipeline_id: str, target: Path) -> Export:
        export = await self.export(pipeline_id)
        await asyncio.to_thread(
            exchange.write_folder, target, export.document, export.folders, export.files
        )
        return export

    async def export_zip(self, pipeline_id: str) -> tuple[str, bytes]:
        """(the pipeline's tag, the zip's bytes)."""
        export = await self.export(pipeline_id)
        data = await asyncio.to_thread(
            exchange.write_zip, export.document, export.folders, export.files
        )
        return export.tag, data

    async def import_zip(
        self, owner: str, project: str, data: bytes, tag: str | None = None
    ) -> Pipeline:
        """Import an uploaded zip: unpacked and checked in a scratch folder, which goes after."""
        with tempfile.TemporaryDirectory(prefix="fusionpipe-import-") as scratch:
            root = await asyncio.to_thread(exchange.extract_zip, data, Path(scratch))
            return await self.import_folder(owner, project, root, tag)

    async def import_folder(
        self, owner: str, project: str, source: Path, tag: str | None = None
    ) -> Pipeline:
        """A new pipeline in ``project`` (id or tag) from an export folder, with new ids. Its
        tag is ``tag``, else the export's, made unique (``tag 2``...) if another has it."""
        wanted = clean_tag(tag)
        document, nodes = await asyncio.to_thread(exchange.read_export, source)
        # Tags follow the rules of tags made here (length), checked before anything is made.
        clean_tag(document.tag, f"{pipeline_file.FILE_NAME}: pipeline.tag")
        for imported in nodes:
            clean_tag(
                imported.node.tag, f"{pipeline_file.FILE_NAME}: nodes.{imported.node.name}.tag"
            )
        async with self.unit() as unit:
            target = await _project(unit.conn, project)
            pipeline = await pipeline_store.insert_pipeline(
                unit.conn,
                new_id("pipeline"),
                target.id,
                await _free_tag(unit, wanted or document.tag.strip()),
                document.notes,
                owner,
            )
            ids = await self._create_nodes(unit, owner, pipeline, nodes)
            await edge_store.insert_edges(
                unit.conn,
                [Edge(new_id("edge"), ids[e.parent], ids[e.child], e.slot) for e in document.edges],
            )
            for group in document.groups:
                row = Group(
                    new_id("group"),
                    pipeline.id,
                    group.tag,
                    group.collapsed,
                    group.x,
                    group.y,
                    group.width,
                    group.height,
                )
                await group_store.insert_group(unit.conn, row)
                members = [ids[n.name] for n in document.nodes if n.group == group.name]
                await node_store.set_group(unit.conn, pipeline.id, members, row.id)
            await refresh_identities(unit, self.settings.data_path, ids.values())
            await events.announce(
                unit.conn, "pipeline.created", pipeline_id=pipeline.id, project_id=target.id
            )
        return pipeline

    async def _create_nodes(
        self, unit: Unit, owner: str, pipeline: Pipeline, nodes: list[exchange.ImportedNode]
    ) -> dict[str, str]:
        """Folders (from the template of each kind, ``code/`` then replaced by the imported
        one) and rows; returns export name -> new node id."""
        ids: dict[str, str] = {}
        rows = []
        for imported in nodes:
            node = imported.node
            node_id = ids[node.name] = new_id("node")
            relative = f"{pipeline.project_id}/{node_id}"
            identity = {
                "node_id": node_id,
                "tag": node.tag,
                "kind": node.kind,
                "project_id": pipeline.project_id,
                "parents": [],
            }
            path = folders.create_node_folder(
                self.settings.data_path, relative, node.kind, identity
            )
            unit.folders.undo.append(partial(folders.purge, path))
            await asyncio.to_thread(exchange.copy_code, imported.files, path / "code")
            if path.parent.stat().st_mode & stat.S_IWGRP:
                set_writable(path)  # a shared data folder: the group may edit it too
            rows.append(
                {
                    "id": node_id,
                    "project_id": pipeline.project_id,
                    "tag": node.tag,
                    "notes": node.notes,
                    "kind": node.kind,
                    "status": Status.READY.value,
                    "locked": False,
                    "owner": owner,
                    "folder": relative,
                }
            )
        await node_store.insert_nodes(unit.conn, rows)
        await node_store.add_members(
            unit.conn, pipeline.id, [(ids[n.node.name], n.node.x, n.node.y) for n in nodes]
        )
        return ids


async def _project(conn: AsyncConnection, id_or_tag: str) -> Project:
    """A project by id, or else by tag (refused when several share it)."""
    found = await project_store.get_project(conn, id_or_tag, for_update=True)
    if found is not None:
        return found
    tagged = [p for p in await project_store.list_projects(conn) if p.tag == id_or_tag]
    if len(tagged) > 1:
        ids = ", ".join(p.id for p in tagged)
        raise Conflict(f"several projects are tagged {id_or_tag!r} ({ids}): give its id")
    if not tagged:
        raise NotFound(f"no project with id or tag {id_or_tag!r}")
    return tagged[0]
