"""``code/node_parameters.yaml``: validated on every write, with the error's line in the message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import Invalid
from .folders import hidden_sibling

RUN_MODES = ("local", "ray")
FILE = Path("code") / "node_parameters.yaml"


def parse_parameters(text: str) -> dict[str, Any]:
    """The parameters as a dict; invalid YAML, a non-mapping or a bad ``run_mode`` is Invalid."""
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
        raise Invalid("node_parameters.yaml must be a mapping of names to values")
    mode = values.get("run_mode", "local")
    if mode not in RUN_MODES:
        raise Invalid(f"run_mode must be one of {', '.join(RUN_MODES)}, not {mode!r}")
    return values


def parse_parameters_or_none(text: str) -> dict[str, Any] | None:
    try:
        return parse_parameters(text)
    except Invalid:
        return None


def read_parameters_text(folder: Path) -> str:
    path = folder / FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""


def read_parameters_or_empty(folder: Path) -> dict[str, Any]:
    """For the identity file's snapshot: a file edited by hand into invalid YAML gives {}."""
    return parse_parameters_or_none(read_parameters_text(folder)) or {}


def write_parameters(folder: Path, text: str) -> None:
    """Validate, then replace the file atomically."""
    parse_parameters(text)
    path = folder / FILE
    temporary = hidden_sibling(path, "tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
