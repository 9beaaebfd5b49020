"""Mapped nodes (SPEC §7): what ``map:`` in ``node_parameters.yaml`` declares, and the items it
gives. Pure: parsed values and file texts in, items out, or ``Invalid`` naming ``map``.

    map: {shot: [1, 2], method: [a, b]}   a grid: one item per combination (one key: a list)
    map: {from: shots.csv}                one item per CSV row (header = keys) or .txt line
    map: {files: "01:*.h5"}               one item per file of the parent in slot 01
    map: {along: "01"}                    the items of the mapped parent in slot 01

An item's id is made from its values, so adding, removing or reordering items never renames the
others, and it is safe as a folder name (the item's outputs go to ``data/<id>``).
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import Invalid

MAP_KEY = "map"
DEFAULT_MAX_ITEMS = 100_000
# The key of a .txt line's value, and of a file item's path.
VALUE_KEY = "value"
FILE_KEY = "file"

_SLOT = re.compile(r"\d{1,3}")
_FORMS = ("from", "files", "along")
# What an id keeps as it is; anything else becomes "_", and the id then ends with a short hash
# of the values, so two items never share an id.
ID_CHARS = "A-Za-z0-9._=,+@~-"
_SAFE = re.compile(f"[^{ID_CHARS}]")
MAX_ID_CHARS = 120
# What every item id matches (the REST document's pattern of one).
ID_PATTERN = f"^[{ID_CHARS}]{{1,{MAX_ID_CHARS}}}$"


@dataclass(frozen=True)
class Declaration:
    """A parsed ``map:``: exactly one of its forms."""

    grid: dict[str, list[Any]] | None = None
    source: str | None = None  # from: a file in code/
    slot: str | None = None  # files: or along: the parent's input slot
    pattern: str | None = None  # files: the glob in that parent's data/

    @property
    def form(self) -> str:
        if self.grid is not None:
            return "grid"
        if self.source is not None:
            return "from"
        return "files" if self.pattern is not None else "along"


@dataclass(frozen=True)
class Item:
    id: str
    values: dict[str, Any]


def problem(text: str) -> Invalid:
    return Invalid(f"node_parameters.yaml: map {text}")


def normal_slot(value: Any) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not _SLOT.fullmatch(text):
        raise problem(f'names an input slot such as "01", not {value!r}')
    return f"{int(text):02d}"


def parse_map(values: dict[str, Any]) -> Declaration | None:
    """The declaration under ``map:``, None when the node is not mapped."""
    if MAP_KEY not in values:
        return None
    declared = values[MAP_KEY]
    if not isinstance(declared, dict) or not declared:
        kind = "an empty mapping" if isinstance(declared, dict) else type(declared).__name__
        raise problem(
            "must be a mapping (name: [values], or one of from:, files:, along:), "
            f"not {kind}: {declared!r}"
        )
    forms = [key for key in _FORMS if key in declared]
    if len(forms) > 1 or (forms and len(declared) > 1):
        raise problem(
            f"declares {', '.join(map(str, declared))} at once: give one of a grid of values, "
            "from:, files: or along:"
        )
    if not forms:
        return Declaration(grid=_grid(declared))
    form, value = forms[0], declared[forms[0]]
    if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
        raise problem(f"{form}: must be text, not {value!r}")
    if form == "from":
        return Declaration(source=_source(str(value)))
    if form == "along":
        return Declaration(slot=normal_slot(value))
    slot, colon, pattern = str(value).partition(":")
    if not colon or not pattern:
        raise problem(f'files: must be "SLOT:GLOB" such as "01:*.h5", not {value!r}')
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise problem(f"files: the glob must stay inside the parent's data/, not {pattern!r}")
    return Declaration(slot=normal_slot(slot), pattern=pattern)


def _grid(declared: dict[Any, Any]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for key, listed in declared.items():
        if not isinstance(key, str) or not key:
            raise problem(f"value names must be text, not {key!r}")
        if not isinstance(listed, list):
            raise problem(f"{key}: must be a list of values, not the scalar {listed!r}")
        if not listed:
            raise problem(f"{key}: is an empty list, which gives no items")
        for value in listed:
            if isinstance(value, (dict, list)):
                raise problem(f"{key}: values must be scalars, not {value!r}")
        seen = set()
        for value in listed:
            marker = _text(value)
            if marker in seen:
                raise problem(f"{key}: {value!r} appears twice")
            seen.add(marker)
        grid[key] = listed
    return grid


def _source(name: str) -> str:
    if name.startswith("/") or ".." in name.split("/") or not name.endswith((".csv", ".txt")):
        raise problem(f"from: must name a .csv or .txt file inside code/, not {name!r}")
    return name


def count_grid(grid: dict[str, list[Any]]) -> int:
    return math.prod(len(listed) for listed in grid.values())


def check_count(count: int, max_items: int) -> None:
    if count > max_items:
        raise problem(f"gives {count} items, more than the limit of {max_items}")


def grid_items(grid: dict[str, list[Any]], max_items: int = DEFAULT_MAX_ITEMS) -> list[Item]:
    """Every combination of the values, the first key varying slowest."""
    check_count(count_grid(grid), max_items)
    keys = list(grid)
    return _unique(
        [
            dict(zip(keys, combination, strict=True))
            for combination in itertools.product(*grid.values())
        ]
    )


def table_items(name: str, text: str, max_items: int = DEFAULT_MAX_ITEMS) -> list[Item]:
    """The rows of a CSV (its header gives the keys) or the non-blank lines of a .txt (key
    ``value``); numbers in the text become numbers."""
    if name.endswith(".txt"):
        rows = [{VALUE_KEY: _number(line.strip())} for line in text.splitlines() if line.strip()]
    else:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        if not header or any(not key or not key.strip() for key in header):
            raise problem(f"from: {name} needs a header row naming every column")
        if len(set(header)) != len(header):
            raise problem(f"from: {name} names a column twice in its header")
        rows = []
        for line, row in enumerate(reader, start=2):
            if None in row or any(value is None for value in row.values()):
                raise problem(f"from: {name} line {line} does not have {len(header)} columns")
            if all(not value.strip() for value in row.values()):
                continue
            rows.append({key.strip(): _number(value.strip()) for key, value in row.items()})
            check_count(len(rows), max_items)
    if not rows:
        raise problem(f"from: {name} holds no items")
    check_count(len(rows), max_items)
    return _unique(rows, where=f"from: {name}")


def file_items(
    relatives: list[str], pattern: str, parent_data: str, max_items: int = DEFAULT_MAX_ITEMS
) -> list[Item]:
    """The files of a parent's ``data/`` (paths relative to it) that match the glob, in name
    order; each item's value ``file`` is its absolute path. A ``*`` stops at a "/"; ``**/``
    spans folders."""
    matcher = re.compile(_glob_regex(pattern))
    chosen = sorted(path for path in relatives if matcher.fullmatch(path))
    check_count(len(chosen), max_items)
    items = [Item(safe_id(path, path), {FILE_KEY: f"{parent_data}/{path}"}) for path in chosen]
    return items


def _glob_regex(pattern: str) -> str:
    parts = []
    for index, piece in enumerate(pattern.split("**/")):
        if index:
            parts.append("(?:.*/)?")
        parts.append(fnmatch.translate(piece)[4:-3].replace(".*", "[^/]*"))
    return "".join(parts)


def along_items(parent_items: list[Item]) -> list[Item]:
    """The same items as the parent's, element by element."""
    return [Item(item.id, dict(item.values)) for item in parent_items]


def _unique(rows: list[dict[str, Any]], where: str = "") -> list[Item]:
    items, seen = [], set()
    for values in rows:
        item = Item(values_id(values), values)
        if item.id in seen:
            place = f"{where} " if where else ""
            raise problem(f"{place}gives the item {item.id} twice")
        seen.add(item.id)
        items.append(item)
    return items


def values_id(values: dict[str, Any]) -> str:
    """``shot=30101,method=fast``: readable, and the same whatever the other items."""
    raw = ",".join(f"{key}={_text(value)}" for key, value in values.items())
    return safe_id(raw, json.dumps(values, sort_keys=True, default=str))


def safe_id(raw: str, identity: str) -> str:
    """``raw`` made safe as a folder name; when that changed it (or it is too long), a short
    hash of ``identity`` ends it, so two different items never share an id."""
    safe = _SAFE.sub("_", raw.replace("~", "_"))
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if safe == raw and 0 < len(safe) <= MAX_ID_CHARS:
        return safe
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return f"{safe[: MAX_ID_CHARS - 9]}~{digest}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text
