"""Removing pipelines and the nodes no pipeline holds any more, folders included."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from ..models import Pipeline
from ..nodes import folders, kernels
from ..store import events
from ..store import nodes as node_store
from ..store import pipelines as pipeline_store
from .common import Unit
from .graph import sync_read_only


async def drop_orphans(unit: Unit, data_path: Path, node_ids: Sequence[str]) -> list[str]:
    """Delete the rows of the given nodes that no pipeline holds any more, and their folders
    once the transaction commits (moved aside now, so a rollback can put them back)."""
    orphaned = await node_store.orphans(unit.conn, node_ids)
    if not orphaned:
        return []
    paths = await node_store.folders_of(unit.conn, orphaned)
    await node_store.delete_nodes(unit.conn, orphaned)
    unit.folders.finish.extend(
        partial(kernels.remove_kernelspec, data_path, node_id) for node_id in orphaned
    )
    for relative in paths:
        path = folders.node_path(data_path, relative)
        if not path.exists():
            continue
        aside = folders.move_aside(path)
        unit.folders.undo.append(partial(aside.rename, path))
        unit.folders.finish.append(partial(folders.purge, aside))
    return orphaned


async def remove_pipeline(unit: Unit, data_path: Path, pipeline: Pipeline) -> None:
    """Delete a pipeline (memberships, groups and lineage go with it) and its orphaned nodes."""
    member_ids = [node.id for node in await node_store.members(unit.conn, pipeline.id)]
    await pipeline_store.delete_pipeline(unit.conn, pipeline.id)
    dropped = await drop_orphans(unit, data_path, member_ids)
    # Nodes it shared with other pipelines may now be held by one only: writable again.
    await sync_read_only(unit, data_path, [n for n in member_ids if n not in dropped])
    await events.announce(
        unit.conn, "pipeline.deleted", pipeline_id=pipeline.id, project_id=pipeline.project_id
    )
