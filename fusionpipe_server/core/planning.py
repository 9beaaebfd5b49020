"""Deciding what is up to date and what a run must do. Pure: no I/O.

A node that has completed is up to date while its fingerprint matches the one recorded when its
last successful run started, its outputs are as that run left them, nobody set it stale by
hand, and every parent is up to date. Otherwise it is ``staledata`` with the reasons why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from ..fingerprint.parts import Parts, reason
from ..models import Status

Reason = dict[str, str]


@dataclass
class NodeState:
    """What the database says about a node, for assessing it."""

    id: str
    tag: str
    status: Status
    recorded: Parts | None
    manual: str | None  # who set it stale by hand
    outputs_recorded: str | None
    parents: Sequence[str] = field(default_factory=list)  # in slot order


@dataclass
class Assessment:
    status: Status
    reasons: list[Reason]
    adopt: bool = False  # no fingerprint recorded yet: take the current one (upgrades, imports)

    @property
    def up_to_date(self) -> bool:
        return self.status == Status.COMPLETED


_LABELS = {
    Status.READY: "has not run",
    Status.RUNNING: "is running",
    Status.FAILED: "failed",
    Status.STALEDATA: "is stale",
}


def assess(
    order: Sequence[str],
    states: Mapping[str, NodeState],
    current: Mapping[str, Parts],
    outputs_seen: Mapping[str, str | None],
    differences: Callable[[Parts, Parts], list[Reason]],
    outside: Mapping[str, Status] | None = None,
) -> dict[str, Assessment]:
    """The status and reasons of every node in ``order`` (parents first). Parents that are not
    being assessed count with their status in ``outside``."""
    result: dict[str, Assessment] = {}
    outside = outside or {}
    for node_id in order:
        state = states[node_id]
        if state.status not in (Status.COMPLETED, Status.STALEDATA):
            result[node_id] = Assessment(state.status, [])
            continue
        reasons: list[Reason] = []
        adopt = False
        if state.recorded is None:
            if state.status == Status.COMPLETED:
                adopt = True
            else:
                reasons.append(reason("manual", "stale since before fingerprints were recorded"))
        else:
            reasons += differences(state.recorded, current[node_id])
            seen = outputs_seen.get(node_id)
            if state.outputs_recorded and seen and seen != state.outputs_recorded:
                reasons.append(reason("outputs", "data/ changed since the run"))
        if state.manual:
            reasons.append(reason("manual", f"set stale by {state.manual}"))
        for parent in state.parents:
            parent_status = result[parent].status if parent in result else outside.get(parent)
            if parent_status is not None and parent_status != Status.COMPLETED:
                tag = states[parent].tag if parent in states else parent
                reasons.append(reason("upstream", f"{tag} {_LABELS[parent_status]}"))
        status = Status.STALEDATA if reasons else Status.COMPLETED
        result[node_id] = Assessment(status, reasons, adopt)
    return result


class Action(str, Enum):
    SKIP = "skip"  # up to date
    RESTORE = "restore"  # outputs of an earlier run with this fingerprint are in the cache
    RUN = "run"


def decide(assessment: Assessment, manual: bool, cached: bool) -> Action:
    """What a run does with a node whose parents have all finished."""
    if assessment.up_to_date:
        return Action.SKIP
    if cached and not manual:
        return Action.RESTORE
    return Action.RUN
