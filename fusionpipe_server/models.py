"""Domain vocabulary shared by every layer: statuses, node kinds and id generation."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import Enum
from typing import Any

from .fingerprint.digest import canonical, digest_text


class Status(str, Enum):
    """Node status, with the colours of the original fusionpipe."""

    READY = "ready"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STALEDATA = "staledata"


class NodeKind(str, Enum):
    """What a node's entry point is; decides the file in ``code/`` and how it is run."""

    PYTHON = "python"
    NOTEBOOK = "notebook"
    MATLAB = "matlab"
    SHELL = "shell"


ENTRY_POINTS = {
    NodeKind.PYTHON: "main.py",
    NodeKind.NOTEBOOK: "main.ipynb",
    NodeKind.MATLAB: "main.m",
    NodeKind.SHELL: "main.sh",
}

ID_PREFIXES = {
    "project": "pr_",
    "pipeline": "p_",
    "node": "n_",
    "group": "ng_",
    "edge": "e_",
    "run": "r_",
    "trash": "t_",
}


def new_id(kind: str) -> str:
    """A prefixed id with 64 random bits: collision-free even for thousands made at once."""
    return ID_PREFIXES[kind] + secrets.token_hex(8)


@dataclass
class Project:
    """A group of pipelines."""

    id: str
    tag: str
    notes: str
    owner: str
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class Pipeline:
    """A DAG of nodes inside a project."""

    id: str
    project_id: str
    tag: str
    notes: str
    owner: str
    locked: bool
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class Node:
    """A node as one pipeline sees it: its own fields plus its position and group there."""

    id: str
    project_id: str
    tag: str
    notes: str
    kind: str
    status: str
    locked: bool
    owner: str
    folder: str  # relative to the data folder
    x: float
    y: float
    group_id: str | None
    referenced: bool
    started_at: datetime | None = None  # of the current run, while running
    # Why it is stale ([{kind, message}]), empty when up to date: see
    # service/freshness/staleness.py.
    stale_reasons: list[dict[str, str]] = field(default_factory=list)
    # What locks it (``locked`` is derived from it, see store/locks.py): None, {"kind": "node"}
    # or {"kind": "pipeline", "id", "tag"} of a locked pipeline that holds it.
    locked_by: dict[str, str] | None = None
    # Why it is read-only (locked, or shared by reference), in words, None when it is not:
    # derived in SQL beside ``locked_by`` so that the panel only shows it (store/locks.py).
    read_only_reason: str | None = None
    # A mapped node's items counted by status ({total, ready, running, ...}), None otherwise.
    items: dict[str, int] | None = None

    def to_json(self, data_path: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "project_id": self.project_id,
            "tag": self.tag,
            "notes": self.notes,
            "kind": self.kind,
            "status": self.status,
            "locked": self.locked,
            "locked_by": self.locked_by,
            "owner": self.owner,
            "folder": f"{data_path}/{self.folder}",
            "position": {"x": self.x, "y": self.y},
            "group": self.group_id,
            "referenced": self.referenced,
            "read_only_reason": self.read_only_reason,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "stale_reasons": self.stale_reasons,
            "items": self.items,
        }


# What an item of a mapped node can be (SPEC §7): a node's statuses.
ITEM_STATUSES = ("ready", "running", "completed", "failed", "staledata")


@dataclass
class Edge:
    """parent -> child, with the child's input slot for that parent."""

    id: str
    source: str
    target: str
    slot: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Group:
    """A visual box around nodes of one pipeline."""

    id: str
    pipeline_id: str
    tag: str
    collapsed: bool
    x: float
    y: float
    width: float
    height: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline_id": self.pipeline_id,
            "tag": self.tag,
            "collapsed": self.collapsed,
            "position": {"x": self.x, "y": self.y},
            "size": {"width": self.width, "height": self.height},
        }


@dataclass
class NodeAttempt:
    """One execution of a node within a run; a run retries a failed node as often as its
    ``retries`` allow."""

    attempt: int
    backend: str | None
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        values = _jsonable(asdict(self))
        values["duration"] = (
            (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
        )
        return values


@dataclass
class RunNode:
    """What one run did with one node."""

    node_id: str
    status: str
    backend: str | None
    host: str | None
    pid: int | None
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None
    reason: str
    # What the execution started from (provenance): see fingerprint/parts.py.
    fingerprint: str | None = None
    fingerprint_parts: dict[str, Any] | None = None
    inputs_from: dict[str, Any] | None = None
    restored_from: str | None = None
    # The attempt running or last run, of how many its retries allow.
    attempt: int = 1
    attempts: int = 1
    # The batch scheduler's job (Slurm: "12"; a mapped node's job array), None elsewhere.
    job_id: str | None = None
    # Every attempt that started, oldest first (filled for a single run, not for lists).
    tries: list[NodeAttempt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        hidden = ("host", "pid", "fingerprint_parts", "inputs_from", "tries")
        values = _jsonable(_shallow(self, hidden))
        values["tries"] = [attempt.to_json() for attempt in self.tries]
        values["duration"] = (
            (self.finished_at - self.started_at).total_seconds()
            if self.started_at and self.finished_at
            else None
        )
        parts = self.fingerprint_parts
        values["made_from"] = (
            {
                "kind": parts["kind"],
                "code_hash": digest_text(canonical(parts["code"])),
                "parameters": parts.get("parameter_values"),
                "environment_hash": digest_text(canonical(parts["environment"])),
                "inputs": self.inputs_from or {},
            }
            if parts
            else None
        )
        return values


# How a node's failure begins when someone (or a cancel, or the server stopping) killed it: a
# kill says what was wanted of that run, so another run never takes it as the node's result.
KILLED_BY = "killed by "

# What a run's status may be; a run in one of the first two has not ended ("active").
RUN_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
ACTIVE_RUN_STATUSES = RUN_STATUSES[:2]


@dataclass
class Run:
    """One execution request: who, when, which nodes, and how each went."""

    id: str
    pipeline_id: str
    requested_by: str
    scope: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    nodes: list[RunNode] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        values = _jsonable(_shallow(self, ("nodes",)))
        values["nodes"] = [node.to_json() for node in self.nodes]
        return values


@dataclass
class TrashItem:
    """A deleted project, pipeline or node, kept until ``expires_at`` to be restored."""

    id: str
    kind: str  # project, pipeline or node
    item_id: str
    tag: str
    owner: str
    deleted_by: str
    deleted_at: datetime
    expires_at: datetime
    pipeline_id: str | None  # where a node was
    project_id: str | None  # where a pipeline was
    # How many of each it holds: {"pipelines": 1, "nodes": 3}.
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _shallow(value: Any, without: tuple[str, ...]) -> dict[str, Any]:
    """A dataclass's fields but ``without`` some, not copied: ``asdict`` would deep-copy a
    run's every node (and their recorded parts) only for them to be thrown away."""
    return {f.name: getattr(value, f.name) for f in fields(value) if f.name not in without}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as ISO-8601 strings, everything else as is."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
