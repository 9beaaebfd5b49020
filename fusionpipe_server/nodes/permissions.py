"""Write permission on node folders: locked ones read-only, unlocked ones writable again."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .identity import IDENTITY_FILE

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
# Caches and environments are rebuilt by tools that must keep writing them, at any depth.
CACHES = frozenset({".venv", "__pycache__", ".ipynb_checkpoints"})
# Top-level entries that stay writable in a locked node: the log of a run still going when
# the node was locked must be finished, and the server replaces the identity file.
ALWAYS_WRITABLE = frozenset({"logs", IDENTITY_FILE})


def _lockable(folder: Path) -> Iterator[Path]:
    """The folder and everything in it that locking governs; never follows a link."""
    yield folder
    for root, dirs, files in os.walk(folder):
        top = root == str(folder)
        dirs[:] = [d for d in dirs if d not in CACHES and not (top and d in ALWAYS_WRITABLE)]
        for name in (*dirs, *files):
            path = Path(root, name)
            if not (top and name in ALWAYS_WRITABLE) and not path.is_symlink():
                yield path


def _group_shared(project_folder: Path) -> bool:
    """A group-writable project folder is a shared data folder (``admin init-data-dir``)."""
    return bool(project_folder.stat().st_mode & stat.S_IWGRP)


def set_locked(folder: Path, locked: bool) -> None:
    """Locked: no write bit on any file or folder of the node (caches and ``logs/`` excepted).
    Unlocked: see ``set_writable``."""
    if not locked:
        set_writable(folder)
        return
    for path in _lockable(folder):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & WRITE_BITS:
            path.chmod(mode & ~WRITE_BITS)


def set_writable(folder: Path) -> None:
    """Owner write on every file and folder of the node; in a shared data folder also group
    read and write (and group execute where the owner has it), so colleagues can edit."""
    shared = _group_shared(folder.parent)
    for path in _lockable(folder):
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = mode | stat.S_IWUSR
        if shared:
            wanted |= stat.S_IWGRP | ((mode & (stat.S_IRUSR | stat.S_IXUSR)) >> 3)
        if wanted != mode:
            path.chmod(wanted)


def make_removable(folder: Path) -> None:
    """Give the owner full access to every folder inside, so each entry can be deleted."""
    _own(folder)
    # Each sub-folder is opened up as soon as it is listed, before the walk goes into it.
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            path = Path(root, name)
            if not path.is_symlink():
                _own(path)


def _own(path: Path) -> None:
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode & stat.S_IRWXU != stat.S_IRWXU:
        path.chmod(mode | stat.S_IRWXU)


def make_project_folder(data_path: Path, folder: Path) -> None:
    """Create a project folder; in a shared data folder (group-writable) it is shared too, so
    every member can add nodes to a project someone else started."""
    if folder.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    root_mode = data_path.stat().st_mode
    if root_mode & stat.S_IWGRP:
        mode = stat.S_IMODE(folder.stat().st_mode) | stat.S_IRWXG
        folder.chmod(mode | (root_mode & stat.S_ISGID))
