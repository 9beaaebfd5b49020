"""Which files of a node's ``code/`` count, and as what: code, parameters or environment.

Environments, caches, version control, dotfiles, editor backups and whatever ``.gitignore`` or
``.fusionpipeignore`` excludes never count: opening, executing or building a node must not make
it look changed. Symbolic links are never followed (they may point into datasets).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

PARAMETERS = "node_parameters.yaml"
# What a node's environment is built from (see nodes/environments.py).
ENVIRONMENT_FILES = frozenset({"requirements.txt", "pyproject.toml", "uv.lock", ".python-version"})
IGNORE_FILES = (".gitignore", ".fusionpipeignore")

_SKIPPED_DIRS = frozenset({".venv", "venv", "__pycache__", ".ipynb_checkpoints", ".git"})
_SKIPPED_FILES = ("*.pyc", "*.pyo", "*~", "*.swp", "*.swo", "*.swx", "#*#", "*.bak", "*.orig")


@dataclass(frozen=True)
class CodeFile:
    """A counted file: its path relative to ``code/`` and what it counts as."""

    relative: str
    role: str  # "code" | "parameters" | "environment"


def _ignore_spec(code: Path) -> pathspec.PathSpec | None:
    lines: list[str] = []
    for name in IGNORE_FILES:
        try:
            lines += (code / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def skipped_dir(name: str) -> bool:
    """Folders under ``code/`` that never count: environments, caches, version control."""
    return name in _SKIPPED_DIRS or name.startswith(".")


def _skipped_file(name: str, top_level: bool) -> bool:
    if top_level and name in ENVIRONMENT_FILES:
        return False
    if name.startswith("."):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _SKIPPED_FILES)


def code_files(code: Path) -> Iterator[tuple[CodeFile, os.stat_result]]:
    """Every counted file under ``code/`` with its ``lstat``, in no particular order."""
    spec = _ignore_spec(code)
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            entries = list(os.scandir(code / prefix if prefix else code))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if skipped_dir(entry.name):
                    continue
                if spec is not None and spec.match_file(relative + "/"):
                    continue
                stack.append(relative + "/")
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


def output_files(data: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``data/`` but folders (relative path, ``lstat``); links are not
    followed but counted by where they point."""
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            entries = list(os.scandir(data / prefix if prefix else data))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                stack.append(relative + "/")
            else:
                yield relative, entry.stat(follow_symlinks=False)
