"""A node's results as the inspector shows them: what ``data/`` and ``reports/`` hold, and a file.

Only those two folders are served, and only what really lies inside them: a path with ``..``,
an absolute path or a symbolic link that leads elsewhere is refused. Listings are capped so a
folder of a million files costs no more than a glance at its first entries.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ...errors import Invalid, NotFound
from ...folders import node_folders as folders
from ...store import items as item_store
from ...store import nodes as node_store
from ..common import ServiceBase

OUTPUT_FOLDERS = ("data", "reports")
# Beyond this many entries the listing only counts, and beyond COUNT_LIMIT it stops counting.
LIST_LIMIT = 200
COUNT_LIMIT = 10_000
# How much of a file the head of a text file may read.
HEAD_BYTES = 64 * 1024

KINDS = {
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".svg": "image",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "text",
    ".log": "text",
    ".md": "text",
    ".json": "text",
    ".yaml": "text",
    ".yml": "text",
    ".html": "html",
    ".htm": "html",
    ".ipynb": "notebook",
}
CONTENT_TYPES = {".svg": "image/svg+xml", ".csv": "text/csv", ".tsv": "text/tab-separated-values"}


def kind_of(name: str) -> str:
    """What the inspector can do with a file: image, csv, text, html, notebook, or other."""
    return KINDS.get(PurePosixPath(name).suffix.lower(), "other")


def content_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    guessed = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


@dataclass(frozen=True)
class OutputFile:
    """A file to send: where it is, what it holds and how big it is."""

    path: Path
    content_type: str
    size: int


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def _listing(
    folder: Path, tops: tuple[str, ...] = OUTPUT_FOLDERS
) -> tuple[list[dict[str, Any]], int, bool]:
    """Files under ``data/`` and ``reports/``, breadth first over both (their own files before
    those of subfolders) and by name, the first LIST_LIMIT with their size; the count of all of
    them (up to COUNT_LIMIT) and whether it is complete. Hidden files and folders are left out.
    Symbolic links are listed when they stay inside their folder, and never followed."""
    entries: list[dict[str, Any]] = []
    count = 0
    queue = [(folder / top, (folder / top).resolve()) for top in tops]
    while queue:
        current, base = queue.pop(0)
        try:
            children = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in children:
            if entry.name.startswith("."):
                continue  # hidden: the lab's checkpoints, editors' and tools' own files
            if entry.is_dir(follow_symlinks=False):
                queue.append((Path(entry.path), base))
                continue
            if entry.is_symlink() and not _inside(Path(entry.path).resolve(), base):
                continue
            if not entry.is_file():
                continue
            count += 1
            if count > COUNT_LIMIT:
                return entries, COUNT_LIMIT, False
            if len(entries) < LIST_LIMIT:
                relative = Path(entry.path).relative_to(folder).as_posix()
                entries.append(
                    {"path": relative, "size": entry.stat().st_size, "kind": kind_of(relative)}
                )
    return entries, count, True


def resolve_output(folder: Path, relative: str) -> Path:
    """The file ``relative`` names inside ``folder/data`` or ``folder/reports``; ``Invalid``
    for a path that tries to leave them, ``NotFound`` when there is no such file."""
    parts = PurePosixPath(relative).parts
    if (
        not relative
        or "\0" in relative
        or relative.startswith("/")
        or ".." in parts
        or not parts
        or parts[0] not in OUTPUT_FOLDERS
        or len(parts) < 2
    ):
        raise Invalid(f"path must name a file inside data/ or reports/, not {relative!r}")
    base = (folder / parts[0]).resolve()
    try:
        path = (folder / relative).resolve()
    except (OSError, RuntimeError) as err:  # a symbolic link loop
        raise Invalid(f"path {relative!r} cannot be resolved") from err
    if not _inside(path, base) or path == base:
        raise Invalid(f"path {relative!r} leads out of {parts[0]}/")
    if not path.is_file():
        raise NotFound(f"the node has no output file {relative!r}")
    return path


def head(path: Path, lines: int) -> str:
    """The first ``lines`` lines of a text file, reading at most HEAD_BYTES."""
    with path.open("rb") as handle:
        chunk = handle.read(HEAD_BYTES)
    text = chunk.decode("utf-8", errors="replace")
    return "".join(text.splitlines(keepends=True)[:lines])


class OutputService(ServiceBase):
    async def _folder(self, node_id: str) -> Path:
        async with self.db.transaction() as conn:
            relative = await node_store.folders_of(conn, [node_id])
        if not relative:
            raise NotFound(f"no node with id {node_id!r}")
        return folders.node_path(self.settings.data_path, relative[0])

    async def listing(self, node_id: str, item_id: str | None = None) -> dict[str, Any]:
        """``{entries: [{path, size, kind}], total, complete}`` of the node's outputs (of one
        of its items: its ``data/<id>`` and ``reports/items/<id>``)."""
        # In a thread: a folder on a network file system can take a while to list.
        folder = await self._folder(node_id)
        tops = OUTPUT_FOLDERS
        if item_id is not None:
            async with self.db.transaction() as conn:
                if await item_store.last_run(conn, node_id, item_id) is False:
                    raise NotFound(f"node {node_id} has no item {item_id!r}")
            tops = (f"data/{item_id}", f"reports/items/{item_id}")
        entries, total, complete = await asyncio.to_thread(_listing, folder, tops)
        return {"node_id": node_id, "entries": entries, "total": total, "complete": complete}

    async def file(self, node_id: str, relative: str) -> OutputFile:
        path = resolve_output(await self._folder(node_id), relative)
        return OutputFile(path, content_type(path.name), path.stat().st_size)

    async def head(self, node_id: str, relative: str, lines: int) -> str:
        """The first ``lines`` lines of a text output."""
        path = resolve_output(await self._folder(node_id), relative)
        return await asyncio.to_thread(head, path, lines)
