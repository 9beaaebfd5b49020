"""The folders of the output cache: a node's replaced ``data/`` moved aside, and copied back.

Outputs go into the cache by a rename (instant, no copy) and come back by a reflink where the
file system can share blocks, else by a copy. Never by a hard link: a node that writes a file
in place (HDF5, ``np.save`` on an open memmap) would change the cached copy too.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from pathlib import Path

from .node_folders import purge
from .permissions import close_to_others, make_folder

CACHE_DIR = ".fusionpipe-cache"
_FICLONE = 0x40049409  # linux/fs.h: share the source's blocks (btrfs, XFS, ...)


def stash(data_path: Path, data: Path, name: str) -> tuple[str, int] | None:
    """Move an outputs folder (a node's ``data/``, an item's ``data/<id>``) into the cache
    under ``name`` and leave it empty. Returns (the cache folder relative to the data folder,
    its size), or None when it cannot be moved by a rename (``data`` is a link, or on another
    file system)."""
    if data.is_symlink() or not data.is_dir():
        return None
    target = data_path / CACHE_DIR / name
    make_folder(target.parent, exist_ok=True)
    try:
        data.rename(target)
    except OSError as err:
        if err.errno in (errno.EXDEV, errno.EBUSY, errno.EPERM, errno.EACCES):
            return None
        raise
    make_folder(data)
    return f"{CACHE_DIR}/{name}", folder_size(target)


def folder_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def restore(cached: Path, data: Path) -> None:
    """Replace an outputs folder with a copy of ``cached``; the cache keeps its own."""
    building = data.parent / f".{data.name}-restoring"
    purge(building)
    try:
        shutil.copytree(cached, building, symlinks=True, copy_function=_clone_or_copy)
        close_to_others(building)  # outputs an older fusionpipe cached may be open to others
        purge(data)
        building.rename(data)
    except BaseException:
        purge(building)
        raise


def _clone_or_copy(source: str, target: str) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        except OSError:
            shutil.copyfileobj(src, dst, 1 << 20)
    shutil.copystat(source, target)
