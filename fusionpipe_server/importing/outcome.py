"""What an import of an original installation decides, as data: what is on disk for a node
folder, what the target already holds, and the plan of rows to write with its counts and
problems. The rules that fill it are rules.py and relations.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("projects", "pipelines", "nodes", "memberships", "edges", "groups", "lineage")


@dataclass(frozen=True)
class FolderFacts:
    """What is on disk for one original node folder (found under ``--from-data``)."""

    path: Path | None  # the folder, None when missing
    relative: str | None  # relative to the original data folder
    os_owner: str | None  # the user owning the folder
    kind: str | None  # from the entry point in code/, None if there is none


@dataclass
class Existing:
    """What the target database already holds, by id."""

    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipeline_tags: dict[str, str] = field(default_factory=dict)  # tag -> pipeline id
    members: set[tuple[str, str]] = field(default_factory=set)  # (pipeline, node)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)  # (parent, child) -> slot
    groups: set[str] = field(default_factory=set)
    lineage: set[tuple[str, str]] = field(default_factory=set)  # (child, parent)


@dataclass
class NodeImport:
    row: dict[str, Any]  # id, project_id, tag, notes, kind, status, locked, owner, folder
    source: Path | None  # the original folder to copy or adopt; None: make an empty one


@dataclass
class Plan:
    projects: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[NodeImport] = field(default_factory=list)
    members: list[tuple[str, str, float, float]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    grouped: list[tuple[str, str, str]] = field(default_factory=list)  # pipeline, node, group
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # parent, child, slot
    lineage: list[tuple[str, str, str]] = field(default_factory=list)  # child, parent, relation
    problems: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    # kind -> [in the original, to import, already there, skipped]
    counts: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0, 0, 0] for k in KINDS})

    def count(self, kind: str, outcome: int) -> None:
        self.counts[kind][0] += 1
        self.counts[kind][outcome] += 1


NEW, THERE, SKIPPED = 1, 2, 3
