"""``code/node_parameters.yaml``: validated before every write, errors naming line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import Invalid
from .atomic import write_atomically

RUN_MODES = ("local", "ray")
PARAMETERS_FILE = Path("code") / "node_parameters.yaml"


def parse_parameters(text: str) -> dict[str, Any]:
    """The parameters as a dict. Invalid YAML (the message gives its line and column), a
    document that is not a mapping of names, or a ``run_mode`` other than local/ray is
    ``Invalid``. An empty document is ``{}``."""
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise Invalid(f"node_parameters.yaml is not valid YAML{where}: {problem}") from err
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise Invalid(
            "node_parameters.yaml must be a mapping of names to values "
            f"(name: value lines), not a {type(values).__name__}"
        )
    names = [name for name in values if not isinstance(name, str)]
    if names:
        raise Invalid(f"node_parameters.yaml: parameter names must be text, not {names[0]!r}")
    if "run_mode" in values and values["run_mode"] not in RUN_MODES:
        raise Invalid(
            f"node_parameters.yaml: run_mode must be one of {', '.join(RUN_MODES)}, "
            f"not {values['run_mode']!r}"
        )
    return values


def parse_parameters_or_none(text: str) -> dict[str, Any] | None:
    """Like ``parse_parameters``, but ``None`` for text it would refuse."""
    try:
        return parse_parameters(text)
    except Invalid:
        return None


def read_parameters_text(folder: Path) -> str:
    """The YAML text of a node folder's parameters (``""`` when the file is missing)."""
    path = folder / PARAMETERS_FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""


def read_parameters(folder: Path) -> dict[str, Any]:
    """A node folder's parameters, validated (``Invalid`` if the file was edited into bad YAML)."""
    return parse_parameters(read_parameters_text(folder))


def read_parameters_or_empty(folder: Path) -> dict[str, Any]:
    """For the identity file's snapshot: a file edited by hand into invalid YAML gives {}."""
    return parse_parameters_or_none(read_parameters_text(folder)) or {}


def write_parameters(folder: Path, text: str) -> dict[str, Any]:
    """Validate ``text``, then replace the file atomically; returns the parsed parameters. A
    refused text changes nothing on disk."""
    values = parse_parameters(text)
    write_atomically(folder / PARAMETERS_FILE, text.encode())
    return values
