"""The files of a mapped node's items: what its declaration reads (a table in ``code/``, a
parent's files), each item's outputs folder ``data/<id>``, and the manifest ``items.json``
that node code downstream reads (``fusionpipe.parent(slot).items()``). Blocking I/O: call from
a thread."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core import mapping
from ..core.mapping import Declaration, Item
from ..fingerprint.digest import canonical, digest_text
from ..fingerprint.hashing import file_hash
from ..fingerprint.selection import output_files
from .atomic import write_atomically
from .node_folders import purge
from .parameters import parse_parameters_or_none, read_parameters_text
from .permissions import make_folder

MANIFEST = "items.json"
# A table of items is a list of cases, not a data set.
MAX_TABLE_BYTES = 64 * 2**20


def table(folder: Path, declared: Declaration, max_items: int) -> list[Item]:
    """The items of ``map: {from: NAME}``: the rows of ``code/NAME``."""
    assert declared.source is not None
    path = folder / "code" / declared.source
    try:
        if not path.resolve().is_relative_to((folder / "code").resolve()):
            raise mapping.problem(f"from: {declared.source} leads outside code/")
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise mapping.problem(f"from: {declared.source} is larger than 64 MiB")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise mapping.problem(f"from: there is no file {declared.source} in code/") from None
    except (OSError, UnicodeDecodeError) as err:
        raise mapping.problem(f"from: cannot read {declared.source}: {err}") from err
    return mapping.table_items(declared.source, text, max_items)


def check(folder: Path, declared: Declaration, max_items: int, parents: dict[str, Path]) -> None:
    """What can be known of a declaration when it is saved: the slot it reads has an input
    (a mapped one for ``along:``), the table exists and gives no more than ``max_items``
    items, a grid gives no more either. ``Invalid`` naming ``map`` otherwise. The files of a
    parent are known only once it has run."""
    if declared.grid is not None:
        mapping.check_count(mapping.count_grid(declared.grid), max_items)
    elif declared.source is not None:
        table(folder, declared, max_items)
    elif declared.slot not in parents:
        raise mapping.problem(f"{declared.form}: there is no input in slot {declared.slot}")
    elif declared.form == "along":
        text = read_parameters_text(parents[declared.slot])
        values = parse_parameters_or_none(text) or {}
        if mapping.MAP_KEY not in values:
            raise mapping.problem(
                f"along: the input in slot {declared.slot} is not a mapped node (no map:)"
            )


def files(parent_folder: Path, declared: Declaration, max_items: int) -> list[Item]:
    """The items of ``map: {files: "SLOT:GLOB"}``: the parent's matching files."""
    assert declared.pattern is not None
    data = parent_folder / "data"
    relatives = [relative for relative, _, _ in output_files(str(data))]
    return mapping.file_items(relatives, declared.pattern, str(data), max_items)


def file_digest(path: str) -> str:
    """The content hash of a file item's file: its part of the item's fingerprint."""
    try:
        return file_hash(path, os.stat(path))
    except OSError:
        return "missing"


def outputs_digest(outputs: Path) -> str:
    """One digest of an item's folder: relative paths, sizes and content hashes."""
    listing = sorted(
        (relative, st.st_size, file_hash(path, st))
        for relative, path, st in output_files(str(outputs))
    )
    return digest_text(canonical(listing))


def prepare(folder: Path, item_id: str) -> Path:
    """An empty outputs folder for the item, ``data/<id>``."""
    outputs = folder / "data" / item_id
    purge(outputs)
    make_folder(outputs, parents=True)
    return outputs


def write_manifest(folder: Path, items: list[dict[str, Any]]) -> None:
    """``items.json``: every item with its values and status, for the nodes that gather."""
    text = json.dumps({"items": items}, indent=1, default=str)
    write_atomically(folder / MANIFEST, text.encode())
