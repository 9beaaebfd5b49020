"""An exported pipeline's ``pipeline.yaml`` built from the graph as the exporter reads it, with
the file-system-safe names its nodes and groups get: pure, no I/O (the format itself is
``pipeline_file``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .pipeline_file import MAX_NAME_LENGTH, FileEdge, FileGroup, FileNode, PipelineFile

# Names Windows refuses for a file or folder, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}


# -- names -------------------------------------------------------------------------------------


def base_name(tag: str, fallback: str) -> str:
    """A folder name from a tag: ASCII lower case, runs of anything else made one ``-``
    (``/``, spaces, accents, other scripts), at most ``MAX_NAME_LENGTH`` characters;
    ``fallback`` when nothing is left, prefixed when Windows reserves the name."""
    ascii_text = unicodedata.normalize("NFKD", tag).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_NAME_LENGTH]
    name = name.strip("-") or fallback
    return f"{fallback}-{name}" if name in _RESERVED else name


def unique_names(items: Sequence[tuple[str, str, Any]], fallback: str) -> dict[str, str]:
    """Key -> unique folder name for ``(key, tag, tie_break)`` items. Names depend only on the
    tags and tie-breaks, never on the keys (database ids), so a re-imported pipeline gets the
    same names: equal names go, in tie-break order, to ``name``, ``name-2``, ``name-3``..."""
    bases = {key: base_name(tag, fallback) for key, tag, _ in items}
    taken = set(bases.values())
    names: dict[str, str] = {}
    seen: set[str] = set()
    for key, _tag, _tie in sorted(items, key=lambda item: (bases[item[0]], item[2])):
        base = bases[key]
        if base not in seen:
            names[key] = base
            seen.add(base)
            continue
        number = 2
        while f"{base}-{number}" in taken:
            number += 1
        names[key] = f"{base}-{number}"
        taken.add(names[key])
    return names


# -- building ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceNode:
    """A node as the exporter knows it; ``key`` is its database id (never written)."""

    key: str
    tag: str
    kind: str
    notes: str
    x: float
    y: float
    group_key: str | None
    # Tells nodes of one tag apart from what survives an import (contents, not ids).
    tie_break: tuple[Any, ...]


@dataclass(frozen=True)
class SourceGroup:
    key: str
    tag: str
    collapsed: bool
    x: float
    y: float
    width: float
    height: float


def build(
    tag: str,
    notes: str,
    version: str,
    nodes: Sequence[SourceNode],
    edges: Iterable[tuple[str, str, str]],
    groups: Sequence[SourceGroup],
) -> tuple[PipelineFile, dict[str, str]]:
    """The document of a pipeline, and node key -> folder name. ``edges``: (parent key, child
    key, slot); edges from parents outside ``nodes`` are left out."""
    node_names = unique_names([(n.key, n.tag, n.tie_break) for n in nodes], "node")
    group_names = unique_names(
        [(g.key, g.tag, (g.y, g.x, g.width, g.height, g.collapsed)) for g in groups], "group"
    )
    file_nodes = tuple(
        FileNode(
            node_names[n.key],
            n.tag,
            n.kind,
            n.notes,
            n.x,
            n.y,
            group_names.get(n.group_key) if n.group_key else None,
        )
        for n in nodes
    )
    file_edges = tuple(
        FileEdge(node_names[parent], node_names[child], slot)
        for parent, child, slot in edges
        if parent in node_names and child in node_names
    )
    file_groups = tuple(
        FileGroup(group_names[g.key], g.tag, g.collapsed, g.x, g.y, g.width, g.height)
        for g in groups
    )
    document = PipelineFile(tag, notes, version, file_nodes, file_edges, file_groups)
    return document, node_names
