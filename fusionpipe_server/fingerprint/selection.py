"""Which files of a node's ``code/`` count, and as what: code, parameters or environment.

Environments, caches, version control, dotfiles, editor backups and whatever ``.gitignore`` or
``.fusionpipeignore`` excludes never count: opening, executing or building a node must not make
it look changed. Symbolic links are never followed (they may point into datasets).
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pathspec

from .hashing import RACY_NS

PARAMETERS = "node_parameters.yaml"
# What a node's environment is built from (see folders/venvs.py).
ENVIRONMENT_FILES = frozenset({"requirements.txt", "pyproject.toml", "uv.lock", ".python-version"})
IGNORE_FILES = (".gitignore", ".fusionpipeignore")

_SKIPPED_DIRS = frozenset({".venv", "venv", "__pycache__", ".ipynb_checkpoints", ".git"})
_SKIPPED_FILES = ("*.pyc", "*.pyo", "*~", "*.swp", "*.swo", "*.swx", "#*#", "*.bak", "*.orig")
# One pattern for all of them: a check walks thousands of files, each tested once.
_SKIPPED_FILE = re.compile("|".join(fnmatch.translate(p) for p in _SKIPPED_FILES))


class CodeFile(NamedTuple):
    """A counted file: its path relative to ``code/`` and what it counts as."""

    relative: str
    role: str  # "code" | "parameters" | "environment"


# Ignore rules by code folder, with the stat of the files they were read from: a check of an
# unchanged folder neither reads nor compiles them again. A file written within the clock tick
# before it was read is not trusted (git's racy rule), so its rules are read again next time.
_IGNORE_RULES: dict[str, tuple[tuple[tuple[int, ...], ...], pathspec.PathSpec | None]] = {}


def _ignore_spec(code: str, top: list[os.DirEntry[str]]) -> pathspec.PathSpec | None:
    found = [entry for entry in top if entry.name in IGNORE_FILES]
    if not found:
        _IGNORE_RULES.pop(code, None)
        return None
    try:
        stamp = tuple(
            (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            for st in (entry.stat(follow_symlinks=False) for entry in found)
        )
    except OSError:
        stamp = ()
    cached = _IGNORE_RULES.get(code)
    if stamp and cached is not None and cached[0] == stamp:
        return cached[1]
    lines: list[str] = []
    for entry in sorted(found, key=lambda entry: IGNORE_FILES.index(entry.name)):
        try:
            with open(entry.path, encoding="utf-8", errors="replace") as handle:
                lines += handle.read().splitlines()
        except OSError:
            continue
    spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
    # Kept only when settled, and never through a link (whose own stat says nothing of what
    # it points to).
    settled = time.time_ns() - RACY_NS
    linked = any(entry.is_symlink() for entry in found)
    if stamp and not linked and all(mtime < settled for _, _, mtime, _ in stamp):
        _IGNORE_RULES[code] = (stamp, spec)
    return spec


def skipped_dir(name: str) -> bool:
    """Folders under ``code/`` that never count: environments, caches, version control."""
    return name in _SKIPPED_DIRS or name.startswith(".")


def _skipped_file(name: str, top_level: bool) -> bool:
    if top_level and name in ENVIRONMENT_FILES:
        return False
    return name.startswith(".") or _SKIPPED_FILE.match(name) is not None


def _listing(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def code_files(code: Path | str) -> Iterator[tuple[CodeFile, os.stat_result]]:
    """Every counted file under ``code/`` with its ``lstat``, in no particular order."""
    root = os.fspath(code)
    top = _listing(root)
    spec = _ignore_spec(root, top)
    stack: list[tuple[str, list[os.DirEntry[str]]]] = [("", top)]
    while stack:
        prefix, entries = stack.pop()
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if skipped_dir(entry.name):
                    continue
                if spec is not None and spec.match_file(relative + "/"):
                    continue
                stack.append((relative + "/", _listing(entry.path)))
                continue
            if _skipped_file(entry.name, top_level=not prefix):
                continue
            if spec is not None and spec.match_file(relative):
                continue
            yield CodeFile(relative, _role(relative)), entry.stat(follow_symlinks=False)


def _role(relative: str) -> str:
    if relative == PARAMETERS:
        return "parameters"
    if relative in ENVIRONMENT_FILES:
        return "environment"
    return "code"


def output_files(data: Path | str) -> Iterator[tuple[str, str, os.stat_result]]:
    """Every entry under ``data/`` but folders (relative path, path, ``lstat``); links are not
    followed but counted by where they point."""
    stack = [("", os.fspath(data))]
    while stack:
        prefix, folder = stack.pop()
        for entry in _listing(folder):
            if entry.is_dir(follow_symlinks=False):
                stack.append((prefix + entry.name + "/", entry.path))
            else:
                yield prefix + entry.name, entry.path, entry.stat(follow_symlinks=False)
