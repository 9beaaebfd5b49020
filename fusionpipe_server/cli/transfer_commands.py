"""``fusionpipe export`` and ``fusionpipe import``: a pipeline to and from a git-friendly folder."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FusionpipeError
from .headless import open_service

if TYPE_CHECKING:
    from ..app import FusionpipeApp


async def _export(pipeline: str, target: Path, settings: FusionpipeApp) -> str:
    async with open_service(settings) as service:
        found = await service.pipelines.find(pipeline)
        export = await service.transfer.export_to_folder(found.id, target)
    return f"exported {found.tag!r} ({len(export.folders)} nodes) to {target}"


async def _import(source: Path, project: str, tag: str | None, settings: FusionpipeApp) -> str:
    async with open_service(settings) as service:
        pipeline = await service.transfer.import_folder(getpass.getuser(), project, source, tag)
        graph = await service.pipelines.graph(pipeline.id)
    return f"imported {pipeline.tag!r} ({pipeline.id}, {len(graph['nodes'])} nodes) from {source}"


def export_main(pipeline: str, target: str, settings: FusionpipeApp) -> int:
    return _report(_export(pipeline, Path(target), settings))


def import_main(source: str, project: str, tag: str | None, settings: FusionpipeApp) -> int:
    return _report(_import(Path(source), project, tag, settings))


def _report(work: Coroutine[Any, Any, str]) -> int:
    try:
        print(f"fusionpipe: {asyncio.run(work)}")
    except FusionpipeError as err:
        print(f"fusionpipe: {err.message}", file=sys.stderr)
        return 2
    return 0
