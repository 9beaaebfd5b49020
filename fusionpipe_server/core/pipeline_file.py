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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import Invalid
from ..models import NodeKind
from . import dag

FILE_NAME = "pipeline.yaml"
NODES_FOLDER = "nodes"
FORMAT = "fusionpipe-pipeline"
FORMAT_VERSION = 1
# A pipeline.yaml is a few kilobytes per node: this bounds what a parser is asked to read.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NAME_LENGTH = 60

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
    cycle = dag.cycle_in((edge.parent, edge.child) for edge in edges)
    if cycle:
        raise Invalid(f"{FILE_NAME}: the edges make a cycle: {' -> '.join(cycle)}")
