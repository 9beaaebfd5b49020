"""``pipeline.yaml``, the file an exported pipeline is described by: built, written and read
here, without I/O.

An export is a folder that reads well in git: ``pipeline.yaml`` and ``nodes/<name>/code/`` per
node. The file holds no database ids: nodes and groups are keyed by a file-system-safe name made
from their tag, unique within the export. Everything is written in a stable order, so an
unchanged pipeline exports byte-identical and a change to one node is a change in one place.
Node parameters are not here: they stay in each node's ``code/node_parameters.yaml``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

import yaml

from ..errors import Invalid
from ..models import NodeKind

FILE_NAME = "pipeline.yaml"
NODES_FOLDER = "nodes"
FORMAT = "fusionpipe-pipeline"
FORMAT_VERSION = 1
# A pipeline.yaml is a few kilobytes per node: this bounds what a parser is asked to read.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NAME_LENGTH = 60

# Names that Windows refuses for a file or folder, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
SLOT_PATTERN = re.compile(r"^[0-9]{2,}$")
_TOP_FIELDS = {
    "format",
    "format_version",
    "fusionpipe_version",
    "pipeline",
    "nodes",
    "edges",
    "groups",
}


@dataclass(frozen=True)
class FileNode:
    name: str
    tag: str
    kind: str
    notes: str
    x: float
    y: float
    group: str | None


@dataclass(frozen=True)
class FileEdge:
    parent: str
    child: str
    slot: str


@dataclass(frozen=True)
class FileGroup:
    name: str
    tag: str
    collapsed: bool
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class PipelineFile:
    """What ``pipeline.yaml`` says, nodes and groups in name order, edges by child and slot."""

    tag: str
    notes: str
    fusionpipe_version: str
    nodes: tuple[FileNode, ...]
    edges: tuple[FileEdge, ...]
    groups: tuple[FileGroup, ...]


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


# -- writing -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as ``|`` blocks, so notes read (and diff) as text."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(document: PipelineFile) -> str:
    """The text of ``pipeline.yaml``: the same document always gives the same bytes."""
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fusionpipe_version": document.fusionpipe_version,
        "pipeline": {"tag": document.tag, "notes": document.notes},
        "nodes": {
            node.name: {
                "tag": node.tag,
                "kind": node.kind,
                "notes": node.notes,
                "position": {"x": node.x, "y": node.y},
                "group": node.group,
            }
            for node in sorted(document.nodes, key=lambda n: n.name)
        },
        "edges": [
            {"child": e.child, "slot": e.slot, "parent": e.parent}
            for e in sorted(document.edges, key=lambda e: (e.child, _slot_key(e.slot)))
        ],
        "groups": {
            group.name: {
                "tag": group.tag,
                "collapsed": group.collapsed,
                "position": {"x": group.x, "y": group.y},
                "size": {"width": group.width, "height": group.height},
            }
            for group in sorted(document.groups, key=lambda g: g.name)
        },
    }
    header = "# A fusionpipe pipeline: `fusionpipe import` recreates it. Parameters are in\n"
    header += "# nodes/<name>/code/node_parameters.yaml.\n"
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _slot_key(slot: str) -> tuple[int, str]:
    return (int(slot), slot) if slot.isdigit() else (0, slot)


# -- reading -----------------------------------------------------------------------------------


def parse(text: str | bytes) -> PipelineFile:
    """Read and check ``pipeline.yaml``. Anything wrong is ``Invalid`` with a message that
    names the entry at fault: corrupt YAML, a missing or mistyped field, an unknown format
    version, a node kind, an edge to a node that is not there, a cycle."""
    if len(text) > MAX_FILE_BYTES:
        raise Invalid(f"{FILE_NAME} is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
    try:
        # Aliases are refused before anything is built: expanding them has no bound.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, yaml.SafeLoader)):
            raise Invalid(f"{FILE_NAME} must not use YAML aliases")
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise Invalid(f"{FILE_NAME} is not valid YAML{where}: {problem}") from err
    top = _mapping(data, FILE_NAME)
    if top.get("format") != FORMAT:
        raise Invalid(f"{FILE_NAME} is not a fusionpipe pipeline (format must be {FORMAT!r})")
    version = top.get("format_version")
    if version != FORMAT_VERSION:
        raise Invalid(
            f"{FILE_NAME} has format version {version!r}; this fusionpipe reads format version "
            f"{FORMAT_VERSION} only (the export names the fusionpipe that wrote it: "
            f"{top.get('fusionpipe_version')!r})"
        )
    _known(top, "", _TOP_FIELDS)
    pipeline = _mapping(top.get("pipeline"), "pipeline")
    _known(pipeline, "pipeline.", {"tag", "notes"})
    groups = tuple(
        _group(name, _mapping(value, f"groups.{name}"))
        for name, value in _entries(top.get("groups") or {}, "groups")
    )
    group_names = {g.name for g in groups}
    nodes = tuple(
        _node(name, _mapping(value, f"nodes.{name}"), group_names)
        for name, value in _entries(top.get("nodes") or {}, "nodes")
    )
    edges = _edges(top.get("edges") or [], {n.name for n in nodes})
    return PipelineFile(
        tag=_text(pipeline.get("tag"), "pipeline.tag", required=True),
        notes=_text(pipeline.get("notes", ""), "pipeline.notes"),
        fusionpipe_version=str(top.get("fusionpipe_version", "")),
        nodes=tuple(sorted(nodes, key=lambda n: n.name)),
        edges=tuple(sorted(edges, key=lambda e: (e.child, _slot_key(e.slot)))),
        groups=tuple(sorted(groups, key=lambda g: g.name)),
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{FILE_NAME}: {where} must be a mapping")
    return value


def _known(value: Mapping[str, Any], prefix: str, fields: set[str]) -> None:
    unknown = sorted(str(key) for key in value if key not in fields)
    if unknown:
        raise Invalid(f"{FILE_NAME}: unknown field {prefix}{unknown[0]}")


def _entries(value: Any, where: str) -> Iterable[tuple[str, Any]]:
    """The entries of a mapping of names, each name checked to be a safe folder name."""
    for name, entry in _mapping(value, where).items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or len(name) > 100:
            raise Invalid(
                f"{FILE_NAME}: {where} has a name {name!r} that is not a safe folder name "
                f"(lower-case letters, digits, '-', '_' and inner dots)"
            )
        yield name, entry


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{FILE_NAME}: {where} must be text")
    if required and not value.strip():
        raise Invalid(f"{FILE_NAME}: {where} must not be empty")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Invalid(f"{FILE_NAME}: {where} must be a finite number")
    return float(value)


def _pair(value: Any, where: str, first: str, second: str) -> tuple[float, float]:
    mapping = _mapping(value, where)
    _known(mapping, f"{where}.", {first, second})
    return (
        _number(mapping.get(first), f"{where}.{first}"),
        _number(mapping.get(second), f"{where}.{second}"),
    )


def _node(name: str, value: Mapping[str, Any], groups: set[str]) -> FileNode:
    where = f"nodes.{name}"
    _known(value, f"{where}.", {"tag", "kind", "notes", "position", "group"})
    kind = value.get("kind")
    kinds = [k.value for k in NodeKind]
    if kind not in kinds:
        raise Invalid(f"{FILE_NAME}: {where}.kind must be one of {', '.join(kinds)}, not {kind!r}")
    group = value.get("group")
    if group is not None and group not in groups:
        raise Invalid(f"{FILE_NAME}: {where}.group {group!r} is not one of the groups")
    x, y = _pair(value.get("position"), f"{where}.position", "x", "y")
    return FileNode(
        name=name,
        tag=_text(value.get("tag"), f"{where}.tag", required=True),
        kind=str(kind),
        notes=_text(value.get("notes", ""), f"{where}.notes"),
        x=x,
        y=y,
        group=group,
    )


def _group(name: str, value: Mapping[str, Any]) -> FileGroup:
    where = f"groups.{name}"
    _known(value, f"{where}.", {"tag", "collapsed", "position", "size"})
    collapsed = value.get("collapsed", False)
    if not isinstance(collapsed, bool):
        raise Invalid(f"{FILE_NAME}: {where}.collapsed must be true or false")
    x, y = _pair(value.get("position"), f"{where}.position", "x", "y")
    width, height = _pair(value.get("size"), f"{where}.size", "width", "height")
    tag = _text(value.get("tag", ""), f"{where}.tag")
    return FileGroup(name, tag, collapsed, x, y, width, height)


def _edges(value: Any, nodes: set[str]) -> list[FileEdge]:
    if not isinstance(value, list):
        raise Invalid(f"{FILE_NAME}: edges must be a list")
    edges: list[FileEdge] = []
    slots: set[tuple[str, str]] = set()
    pairs: set[tuple[str, str]] = set()
    for index, raw in enumerate(value):
        where = f"edges[{index}]"
        entry = _mapping(raw, where)
        _known(entry, f"{where}.", {"parent", "child", "slot"})
        ends = {}
        for field in ("parent", "child"):
            end = entry.get(field)
            if not isinstance(end, str) or end not in nodes:
                raise Invalid(f"{FILE_NAME}: {where}.{field} {end!r} is not one of the nodes")
            ends[field] = end
        parent, child, slot = ends["parent"], ends["child"], entry.get("slot")
        if not isinstance(slot, str) or not SLOT_PATTERN.match(slot):
            raise Invalid(f"{FILE_NAME}: {where}.slot must be digits in quotes, such as '01'")
        if (child, slot) in slots:
            raise Invalid(f"{FILE_NAME}: {where}: node {child!r} has two inputs in slot {slot}")
        if parent == child:
            raise Invalid(f"{FILE_NAME}: {where} connects {parent!r} to itself")
        if (parent, child) in pairs:
            raise Invalid(f"{FILE_NAME}: {where} connects {parent!r} to {child!r} again")
        slots.add((child, slot))
        pairs.add((parent, child))
        edges.append(FileEdge(parent, child, slot))
    _refuse_cycles(edges)
    return edges


def _refuse_cycles(edges: Sequence[FileEdge]) -> None:
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for edge in edges:
        sorter.add(edge.child, edge.parent)
    try:
        sorter.prepare()
    except CycleError as err:
        path = " -> ".join(reversed(err.args[1]))
        raise Invalid(f"{FILE_NAME}: the edges make a cycle: {path}") from err


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
