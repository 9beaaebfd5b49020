"""Permissions under the data folder: what a new folder or file gets (nothing for others, whatever
the umask), and write permission on node folders: locked ones read-only, unlocked ones writable
again."""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .identity import IDENTITY_FILE

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
# Caches and environments are rebuilt by tools that must keep writing them, at any depth.
CACHES = frozenset({".venv", "__pycache__", ".ipynb_checkpoints"})
# Top-level entries that stay writable in a locked node: the log of a run still going when
# the node was locked must be finished, and the server replaces the identity file.
ALWAYS_WRITABLE = frozenset({"logs", IDENTITY_FILE})

# The modes fusionpipe asks for when it creates a folder or a file under the data folder. Never
# a bit for others: node code, outputs and logs are the group's business only. The umask may
# still take group bits away (a single user's choice); in a shared data folder the default ACL
# of ``admin init-data-dir`` decides instead, and gives the group rwx.
FOLDER_MODE = 0o770
FILE_MODE = 0o660
# The umask node processes (and the environment builds) start with. Their files are made by
# code fusionpipe does not control, under whatever umask the user's server has (often 022):
# 007 takes others' bits away and keeps the group's, which a data folder shared through setgid
# alone (no ACLs) needs so colleagues can edit what a node wrote.
NODE_UMASK = 0o007


def make_folder(path: Path, *, parents: bool = False, exist_ok: bool = False) -> None:
    """``Path.mkdir`` where every folder it creates, missing parents too, is closed to others
    (``Path.mkdir`` gives parents the umask's mode)."""
    if parents and not path.parent.exists():
        make_folder(path.parent, parents=True, exist_ok=True)
    try:
        path.mkdir(FOLDER_MODE)
    except FileExistsError:
        if not exist_ok or not path.is_dir():
            raise


def closed_to_others(path: str | os.PathLike[str], flags: int) -> int:
    """An ``opener`` for ``open``: a file it creates is closed to others whatever the umask
    (``open(path, "ab", opener=closed_to_others)``)."""
    return os.open(path, flags, FILE_MODE)


def close_to_others(folder: Path) -> Sweep:
    """Take others' bits away from a folder and everything in it: for trees fusionpipe copies
    (``shutil.copytree`` keeps the source's modes) or has a tool build. Links are skipped:
    ``chmod`` would change what they point to."""
    sweep = Sweep()
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            _close(Path(root, name), sweep)
    _close(folder, sweep)
    return sweep


def _close(path: Path, sweep: Sweep) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISLNK(mode):
        _chmod_if_own(path, stat.S_IMODE(mode), stat.S_IMODE(mode) & ~stat.S_IRWXO, sweep)


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


def _modes(folder: Path) -> Iterator[tuple[Path, int]]:
    """``_lockable`` with each path's permission bits, skipping what vanished meanwhile."""
    for path in _lockable(folder):
        try:
            yield path, stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:
            continue


def _group_shared(project_folder: Path) -> bool:
    """A group-writable project folder is a shared data folder (``admin init-data-dir``)."""
    return bool(project_folder.stat().st_mode & stat.S_IWGRP)


@dataclass
class Sweep:
    """What a permission sweep could not change: only a file's owner (or root) may change its
    mode, whatever the group or ACLs allow, so a colleague's files keep theirs."""

    left: int = 0
    owners: set[str] = field(default_factory=set)

    def note(self, what: str) -> str | None:
        """What to tell the user who locked or unlocked ``what``; None when all went well."""
        if not self.left:
            return None
        whose = ", ".join(sorted(self.owners))
        return (
            f"{self.left} file(s) of {what} belong to {whose}: their permissions on disk are "
            f"unchanged, as only a file's owner may change them; fusionpipe enforces the lock"
        )


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _chmod_if_own(path: Path, mode: int, wanted: int, sweep: Sweep) -> None:
    """Give ``path`` mode ``wanted``, or count it as left when another user owns it. Never
    raises for one file: a sweep goes through the whole folder."""
    if wanted == mode:
        return
    try:
        path.chmod(wanted)
    except PermissionError:
        sweep.left += 1
        sweep.owners.add(_owner_name(path.lstat().st_uid))
    except FileNotFoundError:
        pass  # removed while the sweep went by: nothing to protect


def set_locked(folder: Path, locked: bool) -> Sweep:
    """Locked: no write bit on any file or folder of the node (caches and ``logs/`` excepted).
    Unlocked: see ``set_writable``."""
    if not locked:
        return set_writable(folder)
    sweep = Sweep()
    for path, mode in _modes(folder):
        _chmod_if_own(path, mode, mode & ~WRITE_BITS, sweep)
    return sweep


def set_writable(folder: Path) -> Sweep:
    """Owner write on every file and folder of the node; in a shared data folder also group
    read and write (and group execute where the owner has it), so colleagues can edit. Others
    get nothing, as in a new node folder: a copied or imported node is closed like one."""
    shared = _group_shared(folder.parent)
    sweep = Sweep()
    for path, mode in _modes(folder):
        wanted = (mode | stat.S_IWUSR) & ~stat.S_IRWXO
        if shared:
            wanted |= stat.S_IWGRP | ((mode & (stat.S_IRUSR | stat.S_IXUSR)) >> 3)
        _chmod_if_own(path, mode, wanted, sweep)
    return sweep


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
    make_folder(folder, parents=True, exist_ok=True)
    root_mode = data_path.stat().st_mode
    if root_mode & stat.S_IWGRP:
        mode = stat.S_IMODE(folder.stat().st_mode) | stat.S_IRWXG
        folder.chmod(mode | (root_mode & stat.S_ISGID))
