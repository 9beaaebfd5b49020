"""Folders of deleted nodes, kept for the trash: renamed aside in their own parent folder (one
rename, which works whatever the folder's own permissions, so even a read-only locked node
goes), renamed back on restore, deleted for good on purge. Every path comes from the database
and is checked to stay inside the data folder (``folders.node_path``)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..errors import Conflict
from .node_folders import node_path, purge


def trashed_name(relative: str, trash_id: str) -> str:
    """Where a node folder waits in the trash, relative to the data folder: a hidden name
    beside its place. Unlike an interrupted operation's leftovers it is never swept."""
    path = PurePosixPath(relative)
    return str(path.with_name(f".{path.name}.deleted-{trash_id}"))


def move_to_trash(data_path: Path, relative: str, trash_id: str) -> str | None:
    """Rename a node folder aside; returns its trashed path (None: it had no folder)."""
    source = node_path(data_path, relative)
    if not source.exists():
        return None
    trashed = trashed_name(relative, trash_id)
    source.rename(node_path(data_path, trashed))
    return trashed


def take_back(data_path: Path, relative: str, trashed: str) -> None:
    """Rename a trashed folder back into its place. ``Conflict`` when the place is taken or
    the trashed folder is missing: nothing is moved then."""
    source, target = node_path(data_path, trashed), node_path(data_path, relative)
    if target.exists() or target.is_symlink():
        raise Conflict(f"node folder {relative} is in use again: move that folder away first")
    if not source.is_dir():
        raise Conflict(f"the kept folder of node folder {relative} ({trashed}) is missing")
    source.rename(target)


def put_again(data_path: Path, relative: str, trashed: str) -> None:
    """Undo ``take_back``."""
    node_path(data_path, relative).rename(node_path(data_path, trashed))


def put_back_in_trash(data_path: Path, trashed: str, relative: str) -> None:
    """Undo ``move_to_trash``."""
    node_path(data_path, trashed).rename(node_path(data_path, relative))


def purge_trashed(data_path: Path, trashed: str) -> None:
    purge(node_path(data_path, trashed))
