"""``fusionpipe admin import-original``: read the original, plan, then copy folders and write
rows in one transaction, and tell the admin what was (or would be) done."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ..errors import Conflict, Invalid
from ..folders.permissions import make_folder
from ..store.embedded import default_embedded_path, prepare_database
from . import folders, original, target
from .outcome import KINDS, Plan
from .rules import plan_import
from .write import new_unit, write_rows


@dataclass(frozen=True)
class ImportRequest:
    from_dsn: str
    from_data: Path
    database_url: str  # "" for the embedded database
    data_path: Path
    default_owner: str
    dry_run: bool = False
    in_place: bool = False


def _check_folders(request: ImportRequest) -> tuple[Path, Path]:
    from_data = request.from_data.expanduser().resolve()
    if not from_data.is_dir():
        raise Invalid(f"--from-data {request.from_data} is not a folder")
    data_path = request.data_path.expanduser().resolve()
    if request.in_place and from_data != data_path:
        raise Invalid(
            "--in-place adopts the original node folders where they are, so the data folder "
            f"must be the original's: it is {data_path}, the original's is {from_data} "
            "(pass --data-path or set FUSIONPIPE_DATA_PATH)"
        )
    if not request.in_place and (data_path == from_data or data_path.is_relative_to(from_data)):
        raise Invalid(
            f"the data folder {data_path} is inside the original's {from_data}: pass another "
            "--data-path, or --in-place to adopt the original folders"
        )
    return from_data, data_path


async def _import(
    dsn: str,
    request: ImportRequest,
    installation: original.OriginalInstallation,
    from_data: Path,
    data_path: Path,
) -> Plan:
    facts = folders.facts(installation.nodes, from_data)
    copies = folders.FolderImport(data_path, in_place=request.in_place)

    async def planned(conn: psycopg.AsyncConnection) -> Plan:
        existing = await target.existing(conn)
        return plan_import(
            installation,
            existing,
            facts,
            default_owner=request.default_owner,
            in_place=request.in_place,
        )

    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        unit = new_unit(conn)
        async with conn.transaction():
            plan = await planned(conn)
        if request.dry_run:
            return plan
        try:
            # Copies can take hours: they are made before the transaction, which then only
            # checks that nothing changed meanwhile, writes the rows and renames the folders.
            make_folder(data_path, parents=True, exist_ok=True)
            for node in plan.nodes:
                copies.prepare(node)
            async with conn.transaction():
                await target.lock_for_import(conn)
                if await planned(conn) != plan:
                    raise Conflict(
                        "the target database changed while the folders were copied (another "
                        "import?): nothing was imported, run the import again"
                    )
                await write_rows(unit, plan, data_path)
                copies.publish()
        except BaseException:
            copies.discard()
            raise
    for step in unit.folders.finish:
        try:
            step()
        except OSError as err:  # the rows are in: say what to fix, the rest still happens
            plan.problems.append(f"after the import: {err}")
    return plan


def run_import(request: ImportRequest, say: Callable[[str], None]) -> Plan:
    """Import (or with ``dry_run`` only plan) and report through ``say``."""
    from_data, data_path = _check_folders(request)
    with original.connect(request.from_dsn) as conn:
        installation = original.read(conn)
    dsn, embedded = prepare_database(request.database_url, default_embedded_path())
    try:
        plan = asyncio.run(_import(dsn, request, installation, from_data, data_path))
    finally:
        if embedded is not None:
            embedded.stop()
    report(plan, request, say)
    return plan


def report(plan: Plan, request: ImportRequest, say: Callable[[str], None]) -> None:
    verb = "would import" if request.dry_run else "imported"
    for pipeline in plan.pipelines:
        nodes = sum(1 for p, *_ in plan.members if p == pipeline["id"])
        locked = ", locked" if pipeline["locked"] else ""
        say(f"{verb} pipeline {pipeline['id']} {pipeline['tag']!r} ({nodes} nodes{locked})")
    for problem in plan.problems:
        say(f"problem: {problem}")
    for difference in plan.differences:
        say(f"differs: {difference}")
    say(f"{'':12} {'original':>9} {verb:>13} {'already here':>13} {'skipped':>8}")
    for kind in KINDS:
        total, new, there, skipped = plan.counts[kind]
        say(f"{kind:12} {total:>9} {new:>13} {there:>13} {skipped:>8}")
    if request.dry_run:
        say("dry run: nothing was changed")
