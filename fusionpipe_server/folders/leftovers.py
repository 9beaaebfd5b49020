"""Sweep what a killed server left half-done in the data folder.

Folders are built under a hidden name and renamed into place, removed ones are renamed away
first, and files are written beside their place (see ``atomic.hidden_sibling``): a server killed
in the middle leaves such a hidden entry behind, never a half-made node. This removes them once
they are old enough that no live operation, on any user's server, can still own them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .atomic import HIDDEN_SIBLING
from .kernels import kernels_dir
from .node_folders import purge

log = logging.getLogger(__name__)

# No operation takes this long: an entry older than this belongs to a server that died.
MAX_AGE_SECONDS = 3600.0


def _subfolders(path: Path) -> Iterator[Path]:
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    yield Path(entry.path)
    except OSError:
        return


def _places(data_path: Path) -> Iterator[Path]:
    """Where hidden siblings are made: project folders (new and removed nodes), node folders
    (identity file, old ``data/``), ``code/`` (parameters) and each kernel spec's folder.
    Never inside ``data/``, which holds whatever the node's code wrote."""
    yield from _subfolders(kernels_dir(data_path))
    for project in _subfolders(data_path):
        if project.name.startswith("."):
            continue
        yield project
        for node in _subfolders(project):
            if not node.name.startswith("."):
                yield node
                yield node / "code"


def sweep(data_path: Path, now: float | None = None) -> list[Path]:
    """Remove the leftovers older than ``MAX_AGE_SECONDS``; returns what was removed. Entries
    this user may not remove (a colleague's, in a shared folder) are left alone."""
    deadline = (time.time() if now is None else now) - MAX_AGE_SECONDS
    removed: list[Path] = []
    for place in _places(data_path):
        try:
            with os.scandir(place) as entries:
                stale = [
                    Path(entry.path)
                    for entry in entries
                    if HIDDEN_SIBLING.match(entry.name)
                    and entry.stat(follow_symlinks=False).st_mtime < deadline
                ]
        except OSError:
            continue
        for path in stale:
            try:
                purge(path)
            except OSError as err:
                log.warning("fusionpipe: cannot remove the leftover %s: %s", path, err)
                continue
            removed.append(path)
    return removed
