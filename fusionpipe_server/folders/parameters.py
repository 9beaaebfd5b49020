"""``code/node_parameters.yaml``: parsed within bounds, checked before writing."""

from __future__ import annotations

import copy
import datetime
import functools
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..core import mapping
from ..errors import Invalid
from .atomic import write_atomically
from .scheduling import Scheduling, parse_scheduling

RUN_MODES = ("local", "ray", "slurm")
PARAMETERS_FILE = Path("code") / "node_parameters.yaml"

# A parameters file is a short list of settings. These bounds keep a hostile or mistaken file
# (a "billion laughs" alias bomb, a 10,000-deep nesting) from costing more than milliseconds:
# PyYAML itself expands aliases and recurses without any limit.
MAX_BYTES = 64 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000  # scalars, lists and mappings, counting each alias as the value it repeats


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit while composing and JSON-friendly scalars."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # Checked while scanning: the scanner's work grows with the square of the flow depth, so
        # waiting for the composer to see a 10,000-deep "[[[[" would already cost seconds.
        if self.flow_level >= MAX_DEPTH:
            raise Invalid(_at(self.get_mark(), f"nested deeper than {MAX_DEPTH}"))
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise Invalid(_at(self.peek_event().start_mark, f"nested deeper than {MAX_DEPTH}"))
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _timestamp_as_text(loader: yaml.SafeLoader, node: Node) -> str:
    # JSON (the identity file, the API) has no date type: keep what the user wrote, as ISO text.
    value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    assert isinstance(value, (datetime.date, datetime.datetime))
    return value.isoformat()


def _refuse(what: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: Node) -> Any:
        problem = f"{what} values are not supported (JSON cannot hold them)"
        raise Invalid(_at(node.start_mark, problem))

    return construct


_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_BoundedLoader.add_constructor("tag:yaml.org,2002:set", _refuse("!!set"))
_BoundedLoader.add_constructor("tag:yaml.org,2002:binary", _refuse("!!binary"))


def _at(mark: Any, problem: str) -> str:
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"node_parameters.yaml{where}: {problem}"


def _expanded_size(root: Node) -> int:
    """How many values the document holds once every alias is written out, counted without
    writing them out (each node is counted once and reused), stopping past ``MAX_VALUES``."""
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        if total > MAX_VALUES:
            raise Invalid(
                _at(node.start_mark, f"expands to more than {MAX_VALUES} values (alias bomb?)")
            )
        sizes[id(node)] = total
        return total

    assert isinstance(root, (ScalarNode, SequenceNode, MappingNode))
    return size(root)


def _load(text: str) -> Any:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as err:
        raise Invalid("node_parameters.yaml holds a lone surrogate: not valid text") from err
    if size > MAX_BYTES:
        raise Invalid(f"node_parameters.yaml is larger than {MAX_BYTES // 1024} KiB")
    if "\x00" in text:
        raise Invalid("node_parameters.yaml must not contain NUL characters")
    loader: _BoundedLoader | None = None
    try:
        # The reader refuses control characters as soon as it is made.
        loader = _BoundedLoader(text)
        root = loader.get_single_node()
        if root is None:
            return None
        _expanded_size(root)
        return loader.construct_document(root)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise Invalid(f"node_parameters.yaml is not valid YAML{where}: {problem}") from err
    finally:
        if loader is not None:
            loader.dispose()


def parse_parameters(text: str) -> dict[str, Any]:
    """The parameters as a dict of JSON values. Invalid YAML (the message gives its line and
    column), a file past the size, depth or alias-expansion bounds, a value JSON cannot hold
    (``!!set``, ``!!binary``; dates become ISO text), a document that is not a mapping of
    names, or a ``run_mode`` other than local/ray/slurm is ``Invalid``. An empty document is ``{}``.

    Pure CPU work of bounded cost: call it from a thread when on the event loop. A text seen
    lately is not parsed again (a run reads each node's file more than once)."""
    if len(text) > _MEMO_CHARS:
        return _parse(text)
    found = _memo(text)
    if isinstance(found, str):
        raise Invalid(found)
    return copy.deepcopy(found)


# Parsed texts kept, and up to which size: small files are the common case and PyYAML's pure
# Python parser is slow.
_MEMO_SIZE = 256
_MEMO_CHARS = 8192


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _memo(text: str) -> dict[str, Any] | str:
    """The parsed values, or the message of the ``Invalid`` they raise (never the exception
    itself: raised again and again, it would gather tracebacks)."""
    try:
        return _parse(text)
    except Invalid as err:
        return err.message


def _parse(text: str) -> dict[str, Any]:
    values = _load(text)
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


def check_parameters(text: str) -> dict[str, Any]:
    """``parse_parameters`` plus the scheduling keys (``timeout``, ``retries``, ``retry_delay``,
    ``resources``, ``slurm``) and ``map``, whose bad values are ``Invalid`` naming the key: what
    a saved file must pass. Fingerprints read files with ``parse_parameters`` alone, since those
    keys never count in them."""
    values = parse_parameters(text)
    parse_scheduling(values)
    mapping.parse_map(values)
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


def read_run_settings(
    folder: Path, default_mode: str
) -> tuple[str, Scheduling, mapping.Declaration | None]:
    """How to run a node: its run mode, scheduling and ``map:`` declaration (None: not
    mapped); ``Invalid`` (naming the key) when the file was edited by hand into something
    that cannot be run."""
    values = check_parameters(read_parameters_text(folder))
    return values.get("run_mode", default_mode), parse_scheduling(values), mapping.parse_map(values)


def write_parameters(folder: Path, text: str) -> dict[str, Any]:
    """Validate ``text``, then replace the file atomically; returns the parsed parameters. A
    refused text changes nothing on disk."""
    values = check_parameters(text)
    write_atomically(folder / PARAMETERS_FILE, text.encode())
    return values
