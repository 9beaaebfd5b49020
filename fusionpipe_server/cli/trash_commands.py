"""``fusionpipe admin trash`` (list, empty, restore) and ``fusionpipe admin admins`` (who the
database knows as admins, and setting them as its administrator)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

import psycopg

from ..models import TrashItem
from ..store import admins as admin_store
from .command_help import DATA_HELP, DATABASE_HELP, EXTERNAL_DATABASE_HELP

if TYPE_CHECKING:
    from ..app import FusionpipeApp


def add_commands(admin_commands: Any) -> None:
    """The ``trash`` and ``admins`` sub-commands of ``fusionpipe admin``."""
    trash = admin_commands.add_parser(
        "trash",
        help="what was deleted: list it (the default), empty it, restore from it",
        description="Without a sub-command: list what you deleted or owned (admins: "
        "everything), newest first.",
    )
    trash.add_argument("--database-url", help=DATABASE_HELP)
    trash.add_argument("--data-path", help=DATA_HELP)
    trash.set_defaults(handler=_list)
    actions = trash.add_subparsers(dest="trash_command")
    empty = actions.add_parser("empty", help="purge your trash for good, rows and folders")
    empty.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="only what was deleted more than DAYS days ago",
    )
    empty.add_argument("--database-url", help=DATABASE_HELP)
    empty.add_argument("--data-path", help=DATA_HELP)
    empty.set_defaults(handler=_empty)
    restore = actions.add_parser("restore", help="put an item back, rows and folders")
    restore.add_argument("item", help="the trash item's id (the first column of the list)")
    restore.add_argument("--database-url", help=DATABASE_HELP)
    restore.add_argument("--data-path", help=DATA_HELP)
    restore.set_defaults(handler=_restore)

    admins = admin_commands.add_parser(
        "admins", help="the admins the database enforces: list them, or set them"
    )
    admins.add_argument("--database-url", help=EXTERNAL_DATABASE_HELP)
    admins.set_defaults(handler=_list_admins)
    admin_actions = admins.add_subparsers(dest="admins_command")
    set_ = admin_actions.add_parser(
        "set", help="make exactly these users admins (as the database's owner)"
    )
    set_.add_argument("names", nargs="*", metavar="NAME", help="user names; none: no admins")
    set_.add_argument("--database-url", help=EXTERNAL_DATABASE_HELP)
    set_.set_defaults(handler=_set_admins)


def describe(item: TrashItem) -> str:
    held = ", ".join(
        f"{count} {noun}" for noun, count in item.counts.items() if count and noun != item.kind
    )
    return (
        f"{item.id}  {item.kind} {item.tag!r} ({item.item_id})"
        f"{f' with {held}' if held else ''}, owner {item.owner}, deleted by {item.deleted_by} "
        f"on {item.deleted_at:%Y-%m-%d %H:%M}, kept until {item.expires_at:%Y-%m-%d %H:%M}"
    )


async def list_trash(settings: FusionpipeApp, out: TextIO = sys.stdout) -> int:
    from .headless import open_service

    async with open_service(settings) as service:
        items = await service.trash.listing(getpass.getuser())
    for item in items:
        print(describe(item), file=out)
    if not items:
        print("fusionpipe: the trash is empty", file=out)
    return 0


async def empty_trash(
    settings: FusionpipeApp, older_than_days: float | None, out: TextIO = sys.stdout
) -> int:
    from .headless import open_service

    older_than = None if older_than_days is None else timedelta(days=older_than_days)
    async with open_service(settings) as service:
        purged = await service.trash.empty(getpass.getuser(), older_than)
    for item in purged:
        print(f"purged {describe(item)}", file=out)
    print(f"fusionpipe: purged {len(purged)} item(s) for good", file=out)
    return 0


async def restore(settings: FusionpipeApp, item_id: str, out: TextIO = sys.stdout) -> int:
    from .headless import open_service

    async with open_service(settings) as service:
        item = await service.trash.restore(getpass.getuser(), item_id)
    print(f"fusionpipe: restored {item.kind} {item.tag!r} ({item.item_id})", file=out)
    return 0


def _settings(args: argparse.Namespace) -> FusionpipeApp:
    from .main import _settings as settings_of  # the command's one settings object

    return settings_of(args)


def _list(args: argparse.Namespace) -> int:
    return asyncio.run(list_trash(_settings(args)))


def _empty(args: argparse.Namespace) -> int:
    return asyncio.run(empty_trash(_settings(args), args.older_than))


def _restore(args: argparse.Namespace) -> int:
    return asyncio.run(restore(_settings(args), args.item))


def _admin_url(args: argparse.Namespace) -> str:
    from .main import _database_url

    return _database_url(args)


def _list_admins(args: argparse.Namespace) -> int:
    with psycopg.connect(_admin_url(args), autocommit=True) as conn:
        names = admin_store.list_admins_sync(conn)
    print(f"fusionpipe: admins: {', '.join(names) if names else 'none'}")
    return 0


def _set_admins(args: argparse.Namespace) -> int:
    with psycopg.connect(_admin_url(args), autocommit=True) as conn:
        try:
            admin_store.replace_admins_sync(conn, args.names)
        except psycopg.errors.InsufficientPrivilege:
            sys.exit(
                "fusionpipe: only the database's owner may set the admins: run this as the "
                "database administrator"
            )
        names = admin_store.list_admins_sync(conn)
    if sorted(set(args.names)) != names:
        sys.exit(
            "fusionpipe: only the database's owner may set the admins: run this as the "
            "database administrator"
        )
    print(f"fusionpipe: admins: {', '.join(names) if names else 'none'}")
    return 0
