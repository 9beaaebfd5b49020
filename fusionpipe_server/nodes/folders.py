"""Node folders: made, copied and removed so that a failure never leaves half a folder.

A node lives in ``<data_path>/<project_id>/<node_id>/`` with ``code/`` (entry point and
``node_parameters.yaml``), ``data/`` (outputs), ``reports/``, ``logs/`` (one file per run) and the
identity file ``.fusionpipe-node.json`` that tells node code which node it is.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import Conflict
from ..models import ENTRY_POINTS, NodeKind

IDENTITY_FILE = ".fusionpipe-node.json"
IDENTITY_FORMAT = 1
SUBFOLDERS = ("code", "data", "reports", "logs")
# Never copied with a node, and left writable when it is locked: environments, caches, logs.
_SKIP = {".venv", "__pycache__", ".ipynb_checkpoints", "logs", IDENTITY_FILE}
_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def node_path(data_path: Path, relative: str) -> Path:
    """The folder of a node from its database path, refused if it would leave the data folder
    (absolute, ``..``, or a link pointing elsewhere)."""
    root = Path(data_path).resolve()
    if not relative or Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise Conflict(f"node folder {relative!r} is not inside the data folder")
    path = (root / relative).resolve()
    if path == root or root not in path.parents:
        raise Conflict(f"node folder {relative!r} is not inside the data folder")
    return path


def hidden_sibling(path: Path, purpose: str) -> Path:
    """A hidden name next to ``path`` (same file system, so renames are atomic)."""
    return path.with_name(f".{path.name}.{purpose}-{secrets.token_hex(4)}")


def _template(name: str) -> bytes:
    return resources.files(__package__).joinpath("templates").joinpath(name).read_bytes()


def write_identity(folder: Path, identity: dict[str, Any]) -> None:
    """Write the identity file atomically (readers never see half of it)."""
    content = json.dumps({"format": IDENTITY_FORMAT, **identity}, indent=1)
    temporary = hidden_sibling(folder / IDENTITY_FILE, "tmp")
    temporary.write_text(content, encoding="utf-8")
    temporary.replace(folder / IDENTITY_FILE)


def _publish(building: Path, target: Path) -> Path:
    """Move a folder built aside into place in one rename; remove it if that fails."""
    try:
        if target.exists():
            raise Conflict(f"node folder {target} already exists")
        building.rename(target)
    except BaseException:
        purge(building)
        raise
    return target


def create_node_folder(
    data_path: Path, relative: str, kind: NodeKind, identity: dict[str, Any]
) -> Path:
    """A new node folder from the template of its kind, built aside then renamed into place."""
    target = node_path(data_path, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = hidden_sibling(target, "new")
    try:
        for sub in SUBFOLDERS:
            (building / sub).mkdir(parents=True)
        entry = ENTRY_POINTS[kind]
        (building / "code" / entry).write_bytes(_template(entry))
        if kind is NodeKind.SHELL:
            (building / "code" / entry).chmod(0o755)
        parameters = _template("node_parameters.yaml")
        (building / "code" / "node_parameters.yaml").write_bytes(parameters)
        write_identity(building, {**identity, "parameters": {"run_mode": "local"}})
    except BaseException:
        purge(building)
        raise
    return _publish(building, target)


def copy_node_folder(source: Path, data_path: Path, relative: str, *, with_data: bool) -> Path:
    """A copy of a node folder for a new node: code and reports always, data when asked. Works
    from a read-only (locked or shared) source; the copy is writable. The identity file is not
    copied: the caller writes the copy's own."""
    target = node_path(data_path, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = hidden_sibling(target, "new")
    skip = set(_SKIP) if with_data else {*_SKIP, "data"}
    try:
        shutil.copytree(
            source,
            building,
            ignore=lambda folder, names: [n for n in names if n in skip or n.endswith(".pyc")],
            symlinks=True,
        )
        for sub in SUBFOLDERS:
            (building / sub).mkdir(exist_ok=True)
        _set_write(building, writable=True)
    except BaseException:
        purge(building)
        raise
    return _publish(building, target)


def move_aside(folder: Path) -> Path:
    """Hide a folder under a trash name in one rename (undo: rename it back)."""
    aside = hidden_sibling(folder, "trash")
    folder.rename(aside)
    return aside


def purge(folder: Path) -> None:
    """Delete a folder and everything in it, read-only contents included."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
        return
    if not folder.exists():
        return
    # A locked node's folders have no write bit: give it back so their entries can go.
    _set_write(folder, writable=True)
    shutil.rmtree(folder)


def clear_outputs(folder: Path) -> None:
    """Empty ``data/`` (files, links, sub-folders) and keep the folder itself."""
    data = folder / "data"
    data.mkdir(exist_ok=True)
    for entry in data.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            purge(entry)
        else:
            entry.unlink()


def set_aside_outputs(folder: Path) -> Path:
    """Swap ``data/`` for an empty one; the old one is returned to purge or restore."""
    aside = hidden_sibling(folder / "data", "trash")
    (folder / "data").rename(aside)
    (folder / "data").mkdir()
    return aside


def restore_outputs(folder: Path, aside: Path) -> None:
    purge(folder / "data")
    aside.rename(folder / "data")


def set_locked(folder: Path, locked: bool) -> None:
    """Read-only on disk (no write bit anywhere) or writable again: owner write, plus group
    write when the project folder is group-writable (a shared data folder)."""
    _set_write(folder, writable=not locked)


def _set_write(folder: Path, *, writable: bool) -> None:
    group = bool(folder.parent.stat().st_mode & stat.S_IWGRP)
    add = stat.S_IWUSR | (stat.S_IWGRP if group else 0)
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _SKIP]
        for name in [*files, *dirs]:
            _chmod(Path(root) / name, writable, add)
    _chmod(folder, writable, add)


def _chmod(path: Path, writable: bool, add: int) -> None:
    if path.is_symlink() or path.name in _SKIP:
        return
    mode = path.stat().st_mode
    path.chmod(mode | add if writable else mode & ~_WRITE)
