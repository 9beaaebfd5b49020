"""Ask fusionpipe which node this code belongs to: its folders, its parameters and its inputs.

Works in a node's ``main.py``, in a notebook anywhere inside the node's folder (on the node's
kernel or not), in a Ray worker running the node, and in a terminal opened in the node's folder.
Needs no database and nothing beyond the Python standard library::

    import fusionpipe

    fusionpipe.node_id()               # 'n_3f9a0c...'
    fusionpipe.parameters()            # code/node_parameters.yaml as a dict
    fusionpipe.data_dir()              # write this node's outputs here
    fusionpipe.reports_dir()           # plots, reports
    for p in fusionpipe.parents():     # the inputs, in slot order
        print(p.slot, p.tag, p.data_dir)
    fusionpipe.parent("01").data_dir   # one input by slot ("01" or 1) ...
    fusionpipe.parent("raw data")      # ... or by its tag

How the node is found: from the environment variable ``FUSIONPIPE_NODE_FOLDER`` (set when
fusionpipe runs the node and on the node's kernel), else by walking up from the current folder
to the first one holding ``.fusionpipe-node.json``. Outside any node every function raises
``NotInNodeError``. Every call reads that small file again, so a new edge or a renamed input
shows up without restarting anything.

MATLAB and GNU Octave get the same functions prefixed ``fp_`` (``fp_data_dir()``...), in the
folder ``matlab_path()``, which fusionpipe adds to the path when it runs a node.
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
FOLDER_VARIABLE = "FUSIONPIPE_NODE_FOLDER"
_HOW = (
    f"fusionpipe finds the node from ${FOLDER_VARIABLE} or, when that is not set, from the "
    f"first folder above the current one that holds {IDENTITY_FILE}"
)


class NotInNodeError(RuntimeError):
    """This code is not running inside a fusionpipe node folder."""


@dataclass(frozen=True)
class Parent:
    """One input of this node: the parent node on the edge into input ``slot``.

    ``id`` and ``tag`` are the parent's, ``slot`` is "01", "02"..., ``folder`` is the parent's
    node folder and ``data_dir`` its ``data/`` folder, where its outputs are.
    """

    id: str
    tag: str
    slot: str
    folder: Path

    @property
    def data_dir(self) -> Path:
        """The parent's outputs folder."""
        return self.folder / "data"


def folder() -> Path:
    """This node's folder (it holds ``code/``, ``data/``, ``reports/`` and ``logs/``)."""
    configured = os.environ.get(FOLDER_VARIABLE)
    if configured:
        path = Path(configured).absolute()
        if (path / IDENTITY_FILE).is_file():
            return path
        raise NotInNodeError(
            f"not inside a fusionpipe node: ${FOLDER_VARIABLE} is {configured!r}, which holds "
            f"no {IDENTITY_FILE}"
        )
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / IDENTITY_FILE).is_file():
            return candidate
    raise NotInNodeError(f"not inside a fusionpipe node ({here}): {_HOW}")


def _identity(node_folder: Path) -> dict[str, Any]:
    path = node_folder / IDENTITY_FILE
    try:
        identity = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise NotInNodeError(f"cannot read this node's identity file {path}: {err}") from err
    if not isinstance(identity, dict) or "node_id" not in identity:
        raise NotInNodeError(f"{path} is not a fusionpipe identity file (no node_id)")
    return identity


def node_id() -> str:
    """This node's id, such as ``'n_3f9a0c...'``."""
    return str(_identity(folder())["node_id"])


def code_dir() -> Path:
    """This node's ``code/`` folder (entry point, ``node_parameters.yaml``, notebooks)."""
    return folder() / "code"


def data_dir() -> Path:
    """Where this node writes its outputs. fusionpipe empties it before a stale or failed node
    runs again, and downstream nodes read it as ``parent(...).data_dir``."""
    return folder() / "data"


def reports_dir() -> Path:
    """Where this node keeps plots and reports (executed notebooks are saved here too)."""
    return folder() / "reports"


def parameters() -> dict[str, Any]:
    """This node's ``code/node_parameters.yaml`` as a dict.

    Read fresh from the file when PyYAML is installed (a ``ValueError`` names the line of a
    syntax error); otherwise the copy fusionpipe keeps in the identity file, refreshed whenever
    parameters are saved from the panel and before every run.
    """
    here = folder()
    path = here / "code" / "node_parameters.yaml"
    if not path.is_file():
        return dict(_identity(here).get("parameters") or {})
    try:
        import yaml
    except ImportError:  # a node environment without PyYAML
        return dict(_identity(here).get("parameters") or {})
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from err
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold name: value lines, not a {type(values).__name__}")
    return values


def parents() -> list[Parent]:
    """This node's inputs, in slot order ("01", "02", ...); ``[]`` for a node without any."""
    here = folder()
    root = here.parent.parent  # parent folders are stored relative to the data folder
    found = [
        Parent(str(entry["id"]), str(entry["tag"]), str(entry["slot"]), root / entry["folder"])
        for entry in _identity(here).get("parents") or []
    ]
    return sorted(found, key=lambda p: (len(p.slot), p.slot))


def parent(slot_or_tag: str | int) -> Parent:
    """One input, by slot (``"01"`` or ``1``) or else by tag.

    A slot always wins over a tag. Raises ``LookupError``, listing the inputs there are, when
    none matches or when several inputs carry the tag (then ask by slot).
    """
    inputs = parents()
    described = ", ".join(f"{p.slot} ({p.tag!r})" for p in inputs) or "none"
    if isinstance(slot_or_tag, int) and not isinstance(slot_or_tag, bool):
        wanted = f"{slot_or_tag:02d}"
        matches = [p for p in inputs if p.slot == wanted]
    elif isinstance(slot_or_tag, str):
        wanted = slot_or_tag
        matches = [p for p in inputs if p.slot == wanted]
        matches = matches or [p for p in inputs if p.tag == wanted]
    else:
        raise TypeError(f"parent() takes a slot or a tag, not {slot_or_tag!r}")
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LookupError(
            f"{len(matches)} inputs are tagged {wanted!r}; ask by slot instead. Inputs: {described}"
        )
    raise LookupError(f"this node has no input {wanted!r}. Inputs: {described}")


def matlab_path() -> Path:
    """The folder of the ``fp_*`` MATLAB/Octave functions, for ``addpath``."""
    return Path(__file__).parent / "matlab"
