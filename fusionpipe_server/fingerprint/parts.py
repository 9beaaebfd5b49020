"""What a fingerprint is made of, and the reasons two of them differ. Pure: no I/O.

A node's fingerprint combines its code, parsed parameters, environment spec and kind, the
site's setup commands its runner runs before it (Slurm's ``setup`` setting), and for each input
slot the digest of that parent's ``data/``. The parts are kept beside the
fingerprint so that a difference can be explained ("code/main.py changed", "parameter lr:
0.1 → 0.2", "input 01 (load) has new data") and so that provenance can say what made a result.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from .digest import canonical

REASON_KINDS = (
    "code",
    "parameters",
    "environment",
    "input",
    "upstream",
    "edges",
    "outputs",
    "manual",
    "items",
)
_MAX_PER_KIND = 5


@dataclass(frozen=True)
class Input:
    """One input slot: which parent fills it and the digest of that parent's outputs."""

    node_id: str
    tag: str
    digest: str | None


@dataclass
class Parts:
    kind: str
    code: dict[str, str]
    parameters: str
    environment: dict[str, str]
    inputs: dict[str, Input]
    # The parsed parameters themselves, kept only to name what changed.
    parameter_values: dict[str, Any] | None = field(default=None, compare=False)
    # A mapped node's items key: its ``map:`` declaration and what that reads (the file in
    # code/, or the mapped parent's outputs). Not in the fingerprint: a new item must leave
    # the others' fingerprints alone; a change is still a reason to look at the items again.
    items: str | None = None
    # The site's setup commands (``module load ...``) the node's runner runs before it, kept
    # as text to name what changed; the node's own (``slurm.setup``) are in its parameters.
    site_setup: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        counted: dict[str, Any] = {
            "kind": self.kind,
            "code": self.code,
            "parameters": self.parameters,
            "environment": self.environment,
            "inputs": {slot: i.digest for slot, i in sorted(self.inputs.items())},
        }
        if self.site_setup:  # absent, not empty: nodes without one keep their fingerprints
            counted["site_setup"] = self.site_setup
        return hashlib.sha256(canonical(counted).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Parts:
        return cls(
            kind=value["kind"],
            code=dict(value["code"]),
            parameters=value["parameters"],
            environment=dict(value["environment"]),
            inputs={slot: Input(**i) for slot, i in value["inputs"].items()},
            parameter_values=value.get("parameter_values"),
            items=value.get("items"),
            site_setup=list(value.get("site_setup", [])),
        )


def reason(kind: str, message: str) -> dict[str, str]:
    return {"kind": kind, "message": message}


def _file_changes(kind: str, before: dict[str, str], after: dict[str, str]) -> list[dict[str, str]]:
    found = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            found.append(reason(kind, f"code/{path} removed"))
        elif path not in before:
            found.append(reason(kind, f"code/{path} added"))
        elif before[path] != after[path]:
            found.append(reason(kind, f"code/{path} changed"))
    return _bounded(kind, found)


def _bounded(kind: str, found: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(found) <= _MAX_PER_KIND:
        return found
    more = len(found) - _MAX_PER_KIND + 1
    return [*found[: _MAX_PER_KIND - 1], reason(kind, f"and {more} more")]


def _short(value: Any) -> str:
    text = canonical(value) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parameter_changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[dict[str, str]]:
    if after is None:
        return [reason("parameters", "node_parameters.yaml is not valid YAML")]
    if before is None:
        return [reason("parameters", "node_parameters.yaml changed")]
    found = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            found.append(reason("parameters", f"parameter {key} removed"))
        elif key not in before:
            found.append(reason("parameters", f"parameter {key} added: {_short(after[key])}"))
        elif canonical(before[key]) != canonical(after[key]):
            found.append(
                reason(
                    "parameters",
                    f"parameter {key}: {_short(before[key])} → {_short(after[key])}",
                )
            )
    return _bounded("parameters", found or [reason("parameters", "parameters changed")])


def _input_changes(before: dict[str, Input], after: dict[str, Input]) -> list[dict[str, str]]:
    found = []
    for slot in sorted(before.keys() | after.keys()):
        old, new = before.get(slot), after.get(slot)
        if new is None:
            assert old is not None
            found.append(reason("edges", f"input {slot} ({old.tag}) removed"))
        elif old is None:
            found.append(reason("edges", f"input {slot} ({new.tag}) added"))
        elif old.node_id != new.node_id:
            found.append(reason("edges", f"input {slot} now comes from {new.tag}"))
        elif old.digest != new.digest:
            found.append(reason("input", f"input {slot} ({new.tag}) has new data"))
    return found


def _setup_changes(before: list[str], after: list[str]) -> list[dict[str, str]]:
    """The commands that differ, without those both share at the start and the end."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    old, new = before[start : len(before) - end], after[start : len(after) - end]
    return [
        reason(
            "environment",
            f"site setup changed: {_short('; '.join(old)) or 'none'} → "
            f"{_short('; '.join(new)) or 'none'}",
        )
    ]


def differences(recorded: Parts, current: Parts) -> list[dict[str, str]]:
    """Why ``current`` no longer matches ``recorded``: empty when the fingerprints agree.
    ``current.parameter_values`` must be filled when the parameters differ."""
    if recorded == current:  # the common case, and much cheaper than comparing part by part
        return []
    found: list[dict[str, str]] = []
    found += _file_changes("code", recorded.code, current.code)
    if recorded.parameters != current.parameters:
        found += _parameter_changes(recorded.parameter_values, current.parameter_values)
    if recorded.kind != current.kind:
        found.append(reason("environment", f"kind changed: {recorded.kind} → {current.kind}"))
    found += _file_changes("environment", recorded.environment, current.environment)
    if recorded.site_setup != current.site_setup:
        found += _setup_changes(recorded.site_setup, current.site_setup)
    found += _input_changes(recorded.inputs, current.inputs)
    if recorded.items != current.items:
        found.append(reason("items", "its items, or what they read, changed (map:)"))
    return found
