"""Reading a node folder into what its fingerprint needs, through the stat cache.

This is the only part of fingerprinting that touches files; it runs in a worker thread, never
on the server's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import hashing
from .digest import canonical, digest_text
from .hashing import StatCache
from .selection import code_files, output_files

CODE = "code/"
DATA = "data/"


@dataclass
class FolderScan:
    """What one node folder holds, as hashes (paths relative to ``code/``)."""

    code: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    parameters: str = ""  # digest of the parsed parameters; "" without a parameters file
    outputs_by_stat: bool = False  # `fingerprint: stat`
    cache_outputs: bool = True  # not `cache: false`
    outputs: str | None = None  # digest of data/, when asked for
    map: MapScan | None = None  # a mapped node's declaration, in short
    run_mode: str = ""  # the run mode it names; "": the server's default


@dataclass
class MapScan:
    """What the scan needs of a ``map:`` declaration (see core/mapping.py)."""

    form: str
    slot: str  # files: and along: the parent's input slot
    source: str  # from: the file in code/ (which says what items exist: no code)
    digest: str  # of the declaration
    source_hash: str = ""


def scan_code(folder: Path | str, cache: StatCache) -> FolderScan:
    scan = FolderScan()
    code = f"{folder}/code"
    cache.covered.add(CODE)
    for counted, st in code_files(code):
        path = f"{code}/{counted.relative}"
        key = CODE + counted.relative
        if counted.role == "parameters":
            value = cache.hash(key, path, st, hashing.parameters_hash)
            scan.parameters, _, flags = value.partition(";")
            flags, _, summary = flags.partition(";")
            flags, _, scan.run_mode = flags.partition(":")
            if summary:
                scan.map = MapScan(*summary.split("|", 3))
            scan.outputs_by_stat = "s" in flags
            scan.cache_outputs = "n" not in flags
        elif counted.role == "environment":
            scan.environment[counted.relative] = cache.hash(key, path, st, hashing.file_hash)
        else:
            hasher = hashing.notebook_hash if path.endswith(".ipynb") else hashing.file_hash
            scan.code[counted.relative] = cache.hash(key, path, st, hasher)
    if scan.map is not None and scan.map.source:
        scan.map.source_hash = scan.code.pop(scan.map.source, "")
    return scan


def outputs_digest(folder: Path | str, cache: StatCache, *, by_stat: bool) -> str:
    """One digest of ``data/``: relative paths, sizes and content hashes (or mtimes)."""
    cache.covered.add(DATA)
    hasher = hashing.stat_hash if by_stat else hashing.file_hash
    listing = sorted(
        (relative, st.st_size, cache.hash(DATA + relative, path, st, hasher))
        for relative, path, st in output_files(f"{folder}/data")
    )
    if not listing:
        return EMPTY_OUTPUTS
    return digest_text(canonical(listing))


def scan_folder(folder: Path | str, cache: StatCache, *, outputs: bool) -> FolderScan:
    scan = scan_code(folder, cache)
    if outputs:
        scan.outputs = outputs_digest(folder, cache, by_stat=scan.outputs_by_stat)
    return scan


EMPTY_OUTPUTS = digest_text(canonical([]))
