"""The ``fusionpipe`` command: headless runs and administration of the database."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import psycopg

from .store import schema


def _database_url(args: argparse.Namespace) -> str:
    url: str = args.database_url or os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("fusionpipe: no database given: pass --database-url or set DATABASE_URL")
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


def _run(args: argparse.Namespace) -> int:
    from .headless import main

    return main(args.pipeline, args.until, args.data_path, args.parallel)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fusionpipe", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("admin", help="administer the database and data folder")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    migrate = admin_commands.add_parser(
        "migrate", help="apply the schema upgrades this fusionpipe needs (idempotent)"
    )
    migrate.add_argument("--database-url", help="libpq DSN or URI (default: $DATABASE_URL)")
    migrate.set_defaults(handler=_migrate)

    run = commands.add_parser(
        "run", help="run a pipeline headless (exit status 1 when a node fails)"
    )
    run.add_argument("pipeline", help="pipeline id or tag")
    run.add_argument(
        "--until", metavar="NODE", help="run only this node (id or tag) and its ancestors"
    )
    run.add_argument(
        "--data-path",
        help="the data folder (default: $FUSIONPIPE_DATA_PATH, else ./fusionpipe-data)",
    )
    run.add_argument("--parallel", type=int, help="nodes at once (default: number of CPUs)")
    run.set_defaults(handler=_run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except psycopg.OperationalError as err:
        print(f"fusionpipe: cannot connect to the database: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
