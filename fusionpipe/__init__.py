"""The node-code API: which node am I, where are my folders, my parameters and my inputs.

Use it from a node's code (``main.py``), from a notebook anywhere in the node's folder on the
node's kernel, or from a Ray worker running the node. It needs no database and nothing but the
Python standard library::

    import fusionpipe

    fusionpipe.node_id()              # "n_3f9a..."
    fusionpipe.data_dir()             # where this node writes its outputs
    fusionpipe.parameters()           # node_parameters.yaml as a dict
    for parent in fusionpipe.parents():   # inputs, in slot order
        print(parent.slot, parent.tag, parent.data_dir)
    fusionpipe.parent("01").data_dir  # the input in slot 01 (or by tag: parent("raw data"))

The node is found from ``FUSIONPIPE_NODE_FOLDER`` (set when fusionpipe runs a node, and on the
node's kernel), else by walking up from the current folder to the first folder holding
``.fusionpipe-node.json``. Outside any node every function raises ``NotInNodeError``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "NotInNodeError",
    "Parent",
    "code_dir",
    "data_dir",
    "folder",
    "matlab_path",
    "node_id",
    "parameters",
    "parent",
    "parents",
    "reports_dir",
]

IDENTITY_FILE = ".fusionpipe-node.json"


class NotInNodeError(RuntimeError):
    """The code is not running inside a fusionpipe node."""


@dataclass(frozen=True)
class Parent:
    """One input of this node."""

    id: str
    tag: str
    slot: str
    folder: Path

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"


def folder() -> Path:
    """This node's folder."""
    configured = os.environ.get("FUSIONPIPE_NODE_FOLDER")
    if configured:
        path = Path(configured)
        if (path / IDENTITY_FILE).is_file():
            return path
        raise NotInNodeError(
            f"FUSIONPIPE_NODE_FOLDER is {configured!r}, which holds no {IDENTITY_FILE}"
        )
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / IDENTITY_FILE).is_file():
            return candidate
    raise NotInNodeError(
        "not inside a fusionpipe node: FUSIONPIPE_NODE_FOLDER is not set and no folder above "
        f"{here} holds {IDENTITY_FILE}"
    )


def _identity() -> dict[str, Any]:
    # Read fresh each time: it is tiny, and the server rewrites it when edges or tags change.
    identity: dict[str, Any] = json.loads((folder() / IDENTITY_FILE).read_text(encoding="utf-8"))
    return identity


def node_id() -> str:
    """This node's id."""
    return str(_identity()["node_id"])


def code_dir() -> Path:
    return folder() / "code"


def data_dir() -> Path:
    """Where this node writes its outputs (emptied before a stale or failed node runs again)."""
    return folder() / "data"


def reports_dir() -> Path:
    """Plots, reports, executed notebooks."""
    return folder() / "reports"


def parameters() -> dict[str, Any]:
    """``code/node_parameters.yaml`` as a dict: read fresh when PyYAML is installed, else the
    copy fusionpipe keeps in the identity file (refreshed on every save and before every run)."""
    try:
        import yaml
    except ImportError:
        return dict(_identity().get("parameters") or {})
    path = code_dir() / "node_parameters.yaml"
    if not path.exists():
        return {}
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(values or {})


def parents() -> list[Parent]:
    """This node's inputs, in slot order."""
    here = folder()
    root = here.parent.parent
    found = [
        Parent(entry["id"], entry["tag"], entry["slot"], root / entry["folder"])
        for entry in _identity().get("parents", [])
    ]
    return sorted(found, key=lambda p: (len(p.slot), p.slot))


def parent(slot_or_tag: str | int) -> Parent:
    """One input, by slot (``"01"`` or ``1``) or else by tag."""
    inputs = parents()
    if isinstance(slot_or_tag, int):
        slot_or_tag = f"{slot_or_tag:02d}"
    by_slot = [p for p in inputs if p.slot == slot_or_tag]
    if by_slot:
        return by_slot[0]
    by_tag = [p for p in inputs if p.tag == slot_or_tag]
    if len(by_tag) == 1:
        return by_tag[0]
    described = ", ".join(f"{p.slot} ({p.tag!r})" for p in inputs) or "none"
    if by_tag:
        raise LookupError(
            f"{len(by_tag)} inputs are tagged {slot_or_tag!r}: use a slot instead ({described})"
        )
    raise LookupError(f"this node has no input {slot_or_tag!r}; its inputs: {described}")


def matlab_path() -> Path:
    """The folder of the ``fp_*`` MATLAB/Octave helpers (fusionpipe adds it to the path)."""
    return Path(__file__).parent / "matlab"
