"""The ``fusionpipe`` command: headless runs and administration of the database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from ..errors import FusionpipeError
from ..models import Pipeline, Project
from ..store import schema
from . import admin, trash_commands
from .command_help import DATA_HELP, DATABASE_HELP, EXTERNAL_DATABASE_HELP

if TYPE_CHECKING:
    from ..app import FusionpipeApp


def _settings(args: argparse.Namespace) -> FusionpipeApp:
    """The server's settings (see configuration.py), with this command's options on top."""
    from .configuration import load_settings

    settings = load_settings()
    if getattr(args, "database_url", None):
        settings.database_url = args.database_url
    if getattr(args, "data_path", None):
        settings.data_path = args.data_path
    if getattr(args, "parallel", None):
        settings.max_parallel_nodes = args.parallel
    return settings


def _database_url(args: argparse.Namespace) -> str:
    # Loading the server's settings takes a second or two: only when they are needed.
    url: str = args.database_url or _settings(args).database_url
    if not url:
        sys.exit(
            "fusionpipe: no database given: pass --database-url, set DATABASE_URL or "
            "c.FusionpipeApp.database_url"
        )
    return url


def _migrate(args: argparse.Namespace) -> int:
    with psycopg.connect(_database_url(args), autocommit=True) as conn:
        before = schema.current_version(conn)
        applied = schema.migrate(conn)
    if applied:
        print(f"fusionpipe: schema migrated from version {before} to {applied[-1]}")
    else:
        print(f"fusionpipe: schema already at version {before}, nothing to do")
    return 0


def _init_db(args: argparse.Namespace) -> int:
    with psycopg.connect(_database_url(args), autocommit=True) as conn:
        for line in admin.init_db(conn, args.users_role):
            print(f"fusionpipe: {line}")
    return 0


def _add_user(args: argparse.Namespace) -> int:
    password = getpass.getpass(f"password for {args.name}: ") if args.password else None
    with psycopg.connect(_database_url(args), autocommit=True) as conn:
        print(f"fusionpipe: {admin.add_user(conn, args.name, args.users_role, password)}")
    return 0


def _init_data_dir(args: argparse.Namespace) -> int:
    for line in admin.init_data_dir(Path(args.path), args.group):
        print(f"fusionpipe: {line}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    settings = _settings(args)
    checks = admin.doctor(
        settings.database_url or None,
        settings.resolved_data_path,
        settings.matlab_runner_path,
        pool_size=settings.db_pool_size,
        events_dsn=args.events_database_url or settings.events_database_url or None,
    )
    for check in checks:
        level = "PROBLEM" if not check.ok else "WARNING" if check.warning else "ok     "
        print(f"{level} {check.name}: {check.detail}")
    return 0 if all(check.ok for check in checks) else 1


def _import_original(args: argparse.Namespace) -> int:
    from ..importing.command import ImportRequest, run_import

    settings = _settings(args)
    request = ImportRequest(
        from_dsn=args.from_dsn,
        from_data=Path(args.from_data),
        database_url=settings.database_url,
        data_path=settings.resolved_data_path,
        default_owner=args.default_owner or getpass.getuser(),
        dry_run=args.dry_run,
        in_place=args.in_place,
    )
    run_import(request, lambda line: print(f"fusionpipe: {line}"))
    return 0


def _example(args: argparse.Namespace) -> int:
    from .headless import open_service

    async def create() -> tuple[Pipeline, Project]:
        async with open_service(_settings(args)) as service:
            pipeline = await service.examples.create(getpass.getuser())
            return pipeline, await service.projects.get(pipeline.project_id)

    pipeline, project = asyncio.run(create())
    print(
        f"fusionpipe: made the example pipeline {pipeline.tag!r} ({pipeline.id}) in project "
        f"{project.tag!r} ({project.id}): make data -> fit -> plot -> report"
    )
    print(f"fusionpipe: run it with `fusionpipe run {pipeline.tag}`, or open it in JupyterLab")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .headless import main

    return main(args.pipeline, args.until, _settings(args), failed_items=args.failed_items)


def _status(args: argparse.Namespace) -> int:
    from .headless import pipeline_status

    return asyncio.run(pipeline_status(args.pipeline, settings=_settings(args)))


def _kill(args: argparse.Namespace) -> int:
    from .headless import kill_node

    return asyncio.run(kill_node(args.pipeline, args.node, settings=_settings(args)))


def _cache_gc(args: argparse.Namespace) -> int:
    from .headless import collect_cache

    return asyncio.run(collect_cache(settings=_settings(args), limit=args.limit))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fusionpipe", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    admin_parser = commands.add_parser("admin", help="administer the database and data folder")
    admin_commands = admin_parser.add_subparsers(dest="admin_command", required=True)
    migrate = admin_commands.add_parser(
        "migrate", help="apply the schema upgrades this fusionpipe needs (idempotent)"
    )
    migrate.add_argument("--database-url", help=EXTERNAL_DATABASE_HELP)
    migrate.set_defaults(handler=_migrate)

    init_db = admin_commands.add_parser(
        "init-db", help="schema, users role, grants and default privileges (idempotent)"
    )
    init_db.add_argument("--database-url", help=EXTERNAL_DATABASE_HELP)
    init_db.add_argument("--users-role", default=admin.USERS_ROLE, help="%(default)s")
    init_db.set_defaults(handler=_init_db)

    add_user = admin_commands.add_parser("add-user", help="a database login for a user")
    add_user.add_argument("name", help="the user's account name (peer authentication)")
    add_user.add_argument("--password", action="store_true", help="ask for a password too")
    add_user.add_argument("--database-url", help=EXTERNAL_DATABASE_HELP)
    add_user.add_argument("--users-role", default=admin.USERS_ROLE, help="%(default)s")
    add_user.set_defaults(handler=_add_user)

    data_dir = admin_commands.add_parser(
        "init-data-dir", help="share a data folder with a group (setgid, default ACLs)"
    )
    data_dir.add_argument("path")
    data_dir.add_argument("--group", required=True, help="the group of fusionpipe's users")
    data_dir.set_defaults(handler=_init_data_dir)

    doctor = admin_commands.add_parser("doctor", help="check the installation, say what to fix")
    doctor.add_argument("--database-url", help=DATABASE_HELP)
    doctor.add_argument("--data-path", help=DATA_HELP)
    doctor.add_argument(
        "--events-database-url",
        help="the live events' database (default: $FUSIONPIPE_EVENTS_DATABASE_URL or "
        "c.FusionpipeApp.events_database_url, else the --database-url)",
    )
    doctor.set_defaults(handler=_doctor)

    cache = admin_commands.add_parser("cache", help="the output cache")
    cache_commands = cache.add_subparsers(dest="cache_command", required=True)
    gc = cache_commands.add_parser(
        "gc", help="evict the oldest cached outputs down to the size limit"
    )
    gc.add_argument("--limit", type=int, help="bytes to keep (default: the server's setting)")
    gc.add_argument("--database-url", help=DATABASE_HELP)
    gc.add_argument("--data-path", help=DATA_HELP)
    gc.set_defaults(handler=_cache_gc)

    trash_commands.add_commands(admin_commands)

    kill = commands.add_parser(
        "kill", help="kill a running node and its whole process tree, wherever it runs"
    )
    kill.add_argument("pipeline", help="pipeline id or tag")
    kill.add_argument("node", help="node id or tag")
    kill.add_argument("--database-url", help=DATABASE_HELP)
    kill.add_argument("--data-path", help=DATA_HELP)
    kill.set_defaults(handler=_kill)

    status = commands.add_parser(
        "status",
        help="each node's state and why it is stale (exit status 1 unless all are up to date)",
    )
    status.add_argument("pipeline", help="pipeline id or tag")
    status.add_argument("--database-url", help=DATABASE_HELP)
    status.add_argument("--data-path", help=DATA_HELP)
    status.set_defaults(handler=_status)

    imports = admin_commands.add_parser(
        "import-original",
        help="import an original fusionpipe (v2) installation: projects, pipelines, nodes "
        "and their folders (incremental; the original is only read)",
    )
    imports.add_argument(
        "--from", dest="from_dsn", required=True, metavar="DSN", help="the original's database"
    )
    imports.add_argument(
        "--from-data", required=True, metavar="PATH", help="the original's FUSIONPIPE_DATA_PATH"
    )
    imports.add_argument(
        "--dry-run", action="store_true", help="say what it would do, change nothing"
    )
    imports.add_argument(
        "--in-place",
        action="store_true",
        help="adopt the node folders where they are (the data folder must be the original's)",
    )
    imports.add_argument(
        "--default-owner", metavar="NAME", help="owner where the original has none (default: you)"
    )
    imports.add_argument("--database-url", help=DATABASE_HELP)
    imports.add_argument("--data-path", help=DATA_HELP)
    imports.set_defaults(handler=_import_original)

    example = commands.add_parser(
        "example", help="make the example pipeline (make data, fit, plot, report) to try"
    )
    example.add_argument(
        "--data-path",
        help=DATA_HELP,
    )
    example.set_defaults(handler=_example)

    run = commands.add_parser(
        "run", help="run a pipeline headless (exit status 1 when a node fails)"
    )
    run.add_argument("pipeline", help="pipeline id or tag")
    run.add_argument(
        "--until", metavar="NODE", help="run only this node (id or tag) and its ancestors"
    )
    run.add_argument(
        "--failed-items",
        action="store_true",
        help="run only the failed items of mapped nodes (and what reads those nodes)",
    )
    run.add_argument(
        "--data-path",
        help=DATA_HELP,
    )
    run.add_argument(
        "--parallel",
        type=int,
        help="nodes at once (default: the server's max_parallel_nodes, else the number of CPUs)",
    )
    run.set_defaults(handler=_run)
    _add_transfer_commands(commands)
    return top


def _add_transfer_commands(commands: Any) -> None:
    """``export`` and ``import``: a pipeline to and from a git-friendly folder."""
    export = commands.add_parser(
        "export", help="write a pipeline as pipeline.yaml + each node's code/ into a folder"
    )
    export.add_argument("pipeline", help="pipeline id or tag")
    export.add_argument("dir", help="a new or empty folder, or a previous export to update")
    export.add_argument("--data-path", help=DATA_HELP)
    export.set_defaults(handler=_export)

    import_ = commands.add_parser("import", help="recreate an exported pipeline, with new ids")
    import_.add_argument("dir", help="the folder an export wrote")
    import_.add_argument("--project", required=True, help="project id or tag to import into")
    import_.add_argument("--tag", help="the new pipeline's tag (default: the export's)")
    import_.add_argument("--data-path", help=DATA_HELP)
    import_.set_defaults(handler=_import)


def _export(args: argparse.Namespace) -> int:
    from .transfer_commands import export_main

    return export_main(args.pipeline, args.dir, _settings(args))


def _import(args: argparse.Namespace) -> int:
    from .transfer_commands import import_main

    return import_main(args.dir, args.project, args.tag, _settings(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except psycopg.OperationalError as err:
        print(f"fusionpipe: cannot connect to the database: {err}", file=sys.stderr)
        return 1
    except FusionpipeError as err:
        print(f"fusionpipe: {err.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
