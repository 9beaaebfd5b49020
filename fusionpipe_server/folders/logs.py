"""A node's run logs (``logs/<run_id>.log``): found safely by run id, tails read from the end,
fusionpipe's own lines added off the event loop."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from ..errors import Invalid, NotFound
from .permissions import closed_to_others, make_folder

# The shape of every id fusionpipe makes (and of the ids the URL routes accept): no separator
# and no dot, so a run id can never name a file outside the node's logs folder.
RUN_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_BLOCK = 64 * 1024
# A "whole log" answer is capped too: a multi-GB log must not be read into memory.
MAX_BYTES = 8 * 1024 * 1024


def log_path(node_folder: Path, run_id: str, logs: Path | None = None) -> Path:
    """The log file of ``run_id`` in a node folder (in ``logs``, an item's logs folder, when
    given); ``Invalid`` for an id of another shape, ``NotFound`` when the run left no log
    there."""
    if not RUN_ID.fullmatch(run_id):
        raise Invalid(f"run_id {run_id!r} is not a run id")
    logs = (logs or node_folder / "logs").resolve()
    if not logs.is_relative_to(node_folder.resolve()):
        raise NotFound(f"no log for run {run_id!r}")
    path = (logs / f"{run_id}.log").resolve()
    if path.parent != logs or not path.is_file():
        raise NotFound(f"no log for run {run_id!r}")
    return path


def read_tail(path: Path, lines: int | None) -> str:
    """The last ``lines`` lines of a log (all of it when ``None``), at most ``MAX_BYTES`` of
    them, read backwards in blocks from the end so a large log costs only what is returned.
    Blocking file I/O: call it from a thread."""
    wanted = lines if lines is not None else -1
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        start = end
        chunks: list[bytes] = []
        newlines = 0
        # One line more than asked: the text after the (wanted+1)-th newline from the end.
        while start > 0 and end - start < MAX_BYTES and (wanted < 0 or newlines <= wanted):
            step = min(_BLOCK, start, MAX_BYTES - (end - start))
            start -= step
            handle.seek(start)
            chunk = handle.read(step)
            chunks.append(chunk)
            newlines += chunk.count(b"\n")
    data = b"".join(reversed(chunks))
    if start > 0 and b"\n" in data:
        # Started mid-file: drop the partial first line.
        data = data[data.find(b"\n") + 1 :]
    text = data.decode("utf-8", errors="replace")
    if wanted < 0:
        return text
    return "".join(text.splitlines(keepends=True)[-wanted:]) if wanted else ""


def append(path: Path, text: str) -> None:
    """Add a line of fusionpipe's own to a run's log. Blocking: see ``note``."""
    make_folder(path.parent, parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", opener=closed_to_others) as handle:
        handle.write(text)


async def note(path: Path, text: str) -> None:
    """``append`` from a thread: a slow disk must not stall every run of the server."""
    await asyncio.to_thread(append, path, text)
