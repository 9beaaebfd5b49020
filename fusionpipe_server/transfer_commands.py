"""``fusionpipe export`` and ``fusionpipe import``: a pipeline to and from a git-friendly folder."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from .embedded_db import default_embedded_path, prepare_database
from .errors import FusionpipeError
from .service import Service, Settings
from .store.database import Database


@asynccontextmanager
async def _service(data_path: str | None) -> AsyncIterator[Service]:
    """The services on ``DATABASE_URL`` (else the embedded database) and the data folder."""
    dsn, embedded = prepare_database(os.environ.get("DATABASE_URL", ""), default_embedded_path())
    db = Database(dsn, max_size=2)
    await db.open()
    try:
        folder = Path(data_path or os.environ.get("FUSIONPIPE_DATA_PATH") or "fusionpipe-data")
        yield Service(db, Settings(data_path=folder.resolve()))
    finally:
        await db.close()
        if embedded is not None:
            embedded.stop()


async def _export(pipeline: str, target: Path, data_path: str | None) -> str:
    async with _service(data_path) as service:
        found = await service.pipelines.find(pipeline)
        export = await service.transfer.export_to_folder(found.id, target)
    return f"exported {found.tag!r} ({len(export.folders)} nodes) to {target}"


async def _import(source: Path, project: str, tag: str | None, data_path: str | None) -> str:
    async with _service(data_path) as service:
        pipeline = await service.transfer.import_folder(getpass.getuser(), project, source, tag)
        graph = await service.pipelines.graph(pipeline.id)
    return f"imported {pipeline.tag!r} ({pipeline.id}, {len(graph['nodes'])} nodes) from {source}"


def export_main(pipeline: str, target: str, data_path: str | None) -> int:
    return _report(_export(pipeline, Path(target), data_path))


def import_main(source: str, project: str, tag: str | None, data_path: str | None) -> int:
    return _report(_import(Path(source), project, tag, data_path))


def _report(work: Coroutine[Any, Any, str]) -> int:
    try:
        print(f"fusionpipe: {asyncio.run(work)}")
    except FusionpipeError as err:
        print(f"fusionpipe: {err.message}", file=sys.stderr)
        return 2
    return 0
