"""Node folders made, copied, emptied and removed so that a failure never leaves half a folder.

A node lives in ``<data_path>/<project_id>/<node_id>/``: ``code/`` (entry point and
``node_parameters.yaml``), ``data/`` (outputs), ``reports/``, ``logs/`` (one file per run) and the
identity file ``.fusionpipe-node.json``. New and copied folders are built under a hidden name
beside their place and renamed into it; removed ones are renamed away before being deleted.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import Conflict, Invalid
from ..models import ENTRY_POINTS, NodeKind
from .atomic import hidden_sibling
from .identity import IDENTITY_FILE, read_identity, write_identity
from .parameters import PARAMETERS_FILE, parse_parameters
from .permissions import (
    CACHES,
    closed_to_others,
    make_folder,
    make_project_folder,
    make_removable,
    set_locked,
    set_writable,
)

__all__ = [
    "IDENTITY_FILE",
    "SUBFOLDERS",
    "clear_outputs",
    "copy_node_folder",
    "create_node_folder",
    "hidden_sibling",
    "move_aside",
    "node_path",
    "node_paths",
    "publish_folder",
    "purge",
    "remove_node_folder",
    "restore_outputs",
    "set_aside_outputs",
    "set_locked",
    "write_identity",
]

SUBFOLDERS = ("code", "data", "reports", "logs")


def node_path(data_path: Path | str, relative: str) -> Path:
    """The absolute folder of a node from the path the database holds (relative to the data
    folder). ``Conflict`` if it would lead out of the data folder: an absolute path, ``..``, or
    a symbolic link on the way that points elsewhere."""
    root = Path(data_path).resolve()
    refused = Conflict(f"node folder {relative!r} is not inside the data folder {root}")
    candidate = Path(relative)
    if not relative or "\0" in relative or candidate.is_absolute() or ".." in candidate.parts:
        raise refused
    try:
        path = (root / candidate).resolve()
    except (OSError, RuntimeError) as err:  # a symbolic link loop
        raise refused from err
    if root not in path.parents:
        raise refused
    return path


def node_paths(data_path: Path | str, relatives: Iterable[str]) -> dict[str, str]:
    """``node_path`` of many folders, as text, each project folder resolved once: a check of
    thousands of nodes costs one ``lstat`` per node, not one per component of its path."""
    projects: dict[str, str | None] = {}
    found = {}
    for relative in relatives:
        project, _, name = relative.rpartition("/")
        if project not in projects:
            try:
                projects[project] = str(node_path(data_path, project)) if project else None
            except Conflict:
                projects[project] = None
        base = projects[project]
        if base is not None and name not in ("", ".", "..") and "\0" not in name:
            # Inside a checked project folder, and no link: nothing to resolve.
            path = f"{base}/{name}"
            try:
                linked = stat.S_ISLNK(os.lstat(path).st_mode)
            except OSError:
                linked = False  # missing: its scan finds nothing, as node_path's would
            if not linked:
                found[relative] = path
                continue
        found[relative] = str(node_path(data_path, relative))
    return found


@functools.cache
def _template(name: str) -> bytes:
    return (resources.files(__package__) / "templates" / name).read_bytes()


@functools.cache
def _default_parameters() -> dict[str, Any]:
    return parse_parameters(_template("node_parameters.yaml").decode())


def publish_folder(building: Path, target: Path) -> None:
    """Rename a folder built aside into its place; ``Conflict`` if something is there."""
    if target.exists() or target.is_symlink():
        raise Conflict(f"node folder {target} already exists")
    try:
        building.rename(target)
    except OSError as err:
        # Another process won the race for the same name since the check above.
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise Conflict(f"node folder {target} already exists") from err
        raise


def create_node_folder(
    data_path: Path | str, relative: str, kind: NodeKind | str, identity: Mapping[str, Any]
) -> Path:
    """Make a node folder from the template of ``kind`` with its identity file (``identity``
    without ``parameters``: the template's are recorded). Built under a hidden name and renamed
    into place, so it appears whole or not at all; no process is started."""
    try:
        node_kind = NodeKind(kind)
    except ValueError as err:
        kinds = ", ".join(k.value for k in NodeKind)
        raise Invalid(f"kind must be one of {kinds}, not {kind!r}") from err
    entry = ENTRY_POINTS[node_kind]
    target = node_path(data_path, relative)
    make_project_folder(Path(data_path).resolve(), target.parent)
    building = hidden_sibling(target, "new")
    try:
        make_folder(building)
        for sub in SUBFOLDERS:
            make_folder(building / sub)
        script = building / "code" / entry
        _write_new(script, _template(entry))
        if node_kind is NodeKind.SHELL:
            script.chmod(stat.S_IMODE(script.stat().st_mode) | stat.S_IXUSR | stat.S_IXGRP)
        _write_new(building / PARAMETERS_FILE, _template("node_parameters.yaml"))
        write_identity(building, {**identity, "parameters": _default_parameters()})
        if target.parent.stat().st_mode & stat.S_IWGRP:
            set_writable(building)  # shared data folder: the group may edit it too
        publish_folder(building, target)
    except BaseException:
        purge(building)
        raise
    return target


def _write_new(path: Path, content: bytes) -> None:
    with open(path, "xb", opener=closed_to_others) as stream:
        stream.write(content)


def _ignore_caches(folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name in CACHES or name.endswith(".pyc")}


def copy_node_folder(
    source: Path,
    data_path: Path | str,
    relative: str,
    *,
    with_data: bool,
    identity: Mapping[str, Any] | None = None,
    publish: bool = True,
) -> Path:
    """Copy a node folder for a new node: ``code/`` and ``reports/`` always, ``data/`` only
    ``with_data``; environments, caches and logs are left behind. The copy's identity file is
    the source's with the new node id and project (from ``relative``), updated by ``identity``.
    Works from a read-only (locked or shared) source; the copy is writable. Built aside and
    renamed into place like ``create_node_folder``; with ``publish`` False it stays aside under
    its hidden name, which is returned, for the caller to ``publish_folder`` later."""
    target = node_path(data_path, relative)
    make_project_folder(Path(data_path).resolve(), target.parent)
    building = hidden_sibling(target, "new")
    copied = ("code", "reports", "data") if with_data else ("code", "reports")
    try:
        make_folder(building)
        for sub in copied:
            if (source / sub).is_dir():
                shutil.copytree(source / sub, building / sub, symlinks=True, ignore=_ignore_caches)
        for sub in SUBFOLDERS:
            make_folder(building / sub, exist_ok=True)
        # copytree keeps the source's modes: a locked source would give a read-only copy, one
        # open to others an open one.
        set_writable(building)
        own = {"node_id": target.name, "project_id": target.parent.name, **(identity or {})}
        write_identity(building, {**read_identity(source), **own})
        if not publish:
            return building
        publish_folder(building, target)
    except BaseException:
        purge(building)
        raise
    return target


def move_aside(folder: Path) -> Path:
    """Hide a folder under a trash name in one rename; returns that name (rename it back to
    undo, or ``purge`` it)."""
    aside = hidden_sibling(folder, "trash")
    folder.rename(aside)
    return aside


def purge(path: Path) -> None:
    """Delete a file, link or folder with everything in it, read-only contents included. A
    link is removed, never followed. Nothing there is not an error."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        make_removable(path)
        shutil.rmtree(path)


def remove_node_folder(folder: Path) -> None:
    """Remove a node folder: gone from its place at once (one rename), then deleted."""
    purge(move_aside(folder))


def clear_outputs(folder: Path) -> None:
    """Empty the node's ``data/`` (files, links, sub-folders) and keep the folder itself. A
    ``data`` link is replaced by an empty folder: what it points to is never touched."""
    data = folder / "data"
    if data.is_symlink() or data.is_file():
        data.unlink()
    make_folder(data, exist_ok=True)
    mode = stat.S_IMODE(data.stat().st_mode)
    data.chmod(mode | stat.S_IRWXU)
    try:
        for entry in data.iterdir():
            purge(entry)
    finally:
        data.chmod(mode)


def set_aside_outputs(folder: Path) -> Path:
    """Swap ``data/`` for an empty folder in one rename; returns the old one, to ``purge``
    once the change is committed or to give back with ``restore_outputs``."""
    data = folder / "data"
    make_folder(data, exist_ok=True)
    aside = hidden_sibling(data, "trash")
    data.rename(aside)
    make_folder(data)
    return aside


def restore_outputs(folder: Path, aside: Path) -> None:
    """Undo ``set_aside_outputs``: put the old ``data/`` back in place of the new one."""
    purge(folder / "data")
    aside.rename(folder / "data")
