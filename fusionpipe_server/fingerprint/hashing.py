"""Content hashes of single files, and the stat cache that spares re-reading unchanged ones.

A file is re-hashed only when its stat (inode, size, mtime, ctime) differs from the cached one,
or when it was modified so shortly before it was hashed that a later write within the same
clock tick could have left its stat unchanged (git's "racily clean" rule).
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from typing import Any

import xxhash

from ..core import mapping
from ..errors import Invalid
from ..folders import parameters as node_parameters
from .digest import canonical, digest_text

# A write this close to when a file was hashed may not show in its mtime: hash it again.
RACY_NS = 2_000_000_000
_CHUNK = 1 << 20

# node_parameters.yaml keys that say how a node runs, not what it computes. ``map`` says which
# items exist; each item's own values count in the item's fingerprint instead. Of ``slurm``,
# the setup commands count (they make the node's environment: ``module load``), not the rest.
SCHEDULING_KEYS = frozenset(
    {
        "run_mode",
        "fingerprint",
        "cache",
        "timeout",
        "retries",
        "retry_delay",
        "resources",
        "map",
        "slurm",
    }
)


@dataclass
class StatEntry:
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    hashed_at_ns: int
    hash: str

    def matches(self, st: os.stat_result) -> bool:
        return (self.ino, self.size, self.mtime_ns, self.ctime_ns) == (
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
        ) and st.st_mtime_ns < self.hashed_at_ns - RACY_NS


class StatCache:
    """The cached hashes of one node's files (paths relative to the node folder). Records what
    it learns so that the caller can persist only that."""

    def __init__(self, entries: dict[str, StatEntry] | None = None) -> None:
        self.entries = entries or {}
        self.changed: dict[str, StatEntry] = {}
        self.seen: set[str] = set()
        self.covered: set[str] = set()  # folders ("code/", "data/") this pass walked whole
        self.hashed: list[str] = []  # files whose content was read in this pass

    def hash(self, relative: str, path: str, st: os.stat_result, hasher: Any) -> str:
        self.seen.add(relative)
        entry = self.entries.get(relative)
        if entry is not None and entry.matches(st):
            return entry.hash
        hashed_at = time.time_ns()
        value = hasher(path, st)
        entry = StatEntry(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, hashed_at, value)
        self.changed[relative] = entry
        self.entries[relative] = entry
        self.hashed.append(relative)
        return value

    def gone(self) -> list[str]:
        """Cached paths in the folders this pass walked that it did not see: they are gone."""
        return [
            p for p in self.entries if p not in self.seen and p[: p.find("/") + 1] in self.covered
        ]

    def settle(self) -> None:
        """The pass was persisted: drop the gone entries and start afresh."""
        for path in self.gone():
            del self.entries[path]
        self.changed.clear()
        self.seen.clear()
        self.covered.clear()
        self.hashed.clear()


def file_hash(path: str, st: os.stat_result) -> str:
    """The hash of a file's bytes; a link hashes as where it points, never followed."""
    if stat.S_ISLNK(st.st_mode):
        return "link:" + digest_text(os.readlink(path))
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def stat_hash(path: str, st: os.stat_result) -> str:
    """For outputs a node asked not to hash (``fingerprint: stat``): size and mtime only."""
    return f"stat:{st.st_size}:{st.st_mtime_ns}"


def notebook_hash(path: str, st: os.stat_result) -> str:
    """A notebook counts by its code cells' source and tags and its kernel's language, so
    opening, executing or re-saving it changes nothing."""
    try:
        with open(path, "rb") as handle:
            notebook = json.loads(handle.read())
        cells = [
            {
                "source": "".join(cell.get("source", "")),
                "tags": cell.get("metadata", {}).get("tags", []),
            }
            for cell in notebook.get("cells", [])
            if cell.get("cell_type") == "code"
        ]
        metadata = notebook.get("metadata", {})
        language = metadata.get("kernelspec", {}).get("language") or metadata.get(
            "language_info", {}
        ).get("name")
        return "nb:" + digest_text(canonical({"cells": cells, "language": language}))
    except (ValueError, AttributeError, TypeError):
        return file_hash(path, st)


def counted(values: dict[str, Any]) -> dict[str, Any]:
    """Parsed parameters without the scheduling keys: what a node's results can depend on."""
    kept = {k: v for k, v in values.items() if k not in SCHEDULING_KEYS}
    slurm = values.get("slurm")
    if isinstance(slurm, dict) and slurm.get("setup"):
        kept["slurm"] = {"setup": slurm["setup"]}
    return kept


def parameter_values(text: str) -> dict[str, Any] | None:
    """What counts of node_parameters.yaml: its parsed values without the scheduling keys;
    None when the file cannot be parsed."""
    values = node_parameters.parse_parameters_or_none(text)
    return None if values is None else counted(values)


def parameters_hash(path: str, st: os.stat_result) -> str:
    """The digest of the parsed parameters, followed by the options the scan needs from the
    file (``;s`` outputs by stat, ``n`` no cache, ``:MODE`` the run mode it names, then
    ``;SUMMARY`` of its ``map:``), so an unchanged file is never parsed. Values cached before
    the run mode was written read as naming none."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    values = node_parameters.parse_parameters_or_none(text)
    if values is None:
        return "invalid:" + digest_text(text) + ";"
    flags = ("s" if values.get("fingerprint") == "stat" else "") + (
        "n" if values.get("cache") is False else ""
    )
    mode = values.get("run_mode")
    mode = mode if mode in node_parameters.RUN_MODES else ""
    return f"{digest_text(canonical(counted(values)))};{flags}:{mode};{map_summary(values)}"


def map_summary(values: dict[str, Any]) -> str:
    """``form|slot|source|digest`` of a valid ``map:`` declaration, "" when there is none."""
    try:
        declared = mapping.parse_map(values)
    except Invalid:
        return ""  # refused when the node runs, with the reason
    if declared is None:
        return ""
    digest = digest_text(canonical(values[mapping.MAP_KEY]))
    return f"{declared.form}|{declared.slot or ''}|{declared.source or ''}|{digest}"
