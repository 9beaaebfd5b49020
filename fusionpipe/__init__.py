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
    fusionpipe.metrics(chi2=0.31)      # scalar results, kept per run (and per item)

Mapped nodes (``map:`` in ``node_parameters.yaml``) run once per *item*; while one item runs::

    fusionpipe.item()                  # its values: {'shot': 30101, 'method': 'fast'}
    fusionpipe.item_id()               # 'shot=30101,method=fast' (None when not an item)
    fusionpipe.data_dir()              # the item's own folder, data/<item id>
    fusionpipe.parameters()            # the node's parameters with the item's values merged in
    fusionpipe.parent("01").data_dir() # mapped `along` slot 01: the matching item's folder
    fusionpipe.parent("01").items()    # an unmapped child gathers: every item of the parent

How the node is found: from the environment variable ``FUSIONPIPE_NODE_FOLDER`` (set when
fusionpipe runs the node and on the node's kernel), else by walking up from the current folder
to the first one holding ``.fusionpipe-node.json``. Outside any node every function raises
``NotInNodeError`` (except ``item()`` and ``item_id()``, which only read the item fusionpipe
handed to this process). Every call reads that small file again, so a new edge or a renamed
input shows up without restarting anything. The item comes from variables fusionpipe sets when
it runs one: ``FUSIONPIPE_ITEM`` (its values as JSON), ``FUSIONPIPE_ITEM_ID``,
``FUSIONPIPE_DATA_DIR`` (its folder) and ``FUSIONPIPE_ALONG`` (the input slot it follows).

MATLAB and GNU Octave get the same functions prefixed ``fp_`` (``fp_data_dir()``,
``fp_item()``, ``fp_metrics(...)``...), in the folder ``matlab_path()``, which fusionpipe adds
to the path when it runs a node.
"""

from __future__ import annotations

import _thread
import json
import math
import os
import sys
from pathlib import Path

# Every node and every item imports this module: it keeps to what json and pathlib load anyway
# (no dataclasses, no typing at run time), which saves a node process about 15 ms of start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DataDir",
    "Item",
    "NotInNodeError",
    "Parent",
    "code_dir",
    "data_dir",
    "folder",
    "item",
    "item_id",
    "matlab_path",
    "metrics",
    "node_id",
    "parameters",
    "parent",
    "parents",
    "reports_dir",
]

IDENTITY_FILE = ".fusionpipe-node.json"
ITEMS_FILE = "items.json"
FOLDER_VARIABLE = "FUSIONPIPE_NODE_FOLDER"
ITEM_VARIABLE = "FUSIONPIPE_ITEM"
ITEM_ID_VARIABLE = "FUSIONPIPE_ITEM_ID"
DATA_DIR_VARIABLE = "FUSIONPIPE_DATA_DIR"
ALONG_VARIABLE = "FUSIONPIPE_ALONG"
METRICS_VARIABLE = "FUSIONPIPE_METRICS_FILE"
_HOW = (
    f"fusionpipe finds the node from ${FOLDER_VARIABLE} or, when that is not set, from the "
    f"first folder above the current one that holds {IDENTITY_FILE}"
)

if sys.platform == "win32":
    from pathlib import WindowsPath as _ConcretePath
else:
    from pathlib import PosixPath as _ConcretePath


class NotInNodeError(RuntimeError):
    """This code is not running inside a fusionpipe node folder."""


class DataDir(_ConcretePath):
    """A parent's outputs folder: a ``Path`` that may also be called, returning itself.

    ``Parent.data_dir`` has always been a property giving a ``Path``
    (``parent("01").data_dir / "points.csv"``), and the specification of mapped nodes writes it
    as a call (``parent("01").data_dir()``), like ``fusionpipe.data_dir()``. Being both keeps
    every existing node working and makes the call form right too. Paths made from it
    (``/``, ``.parent``...) are of this class as well; compare and use them as any ``Path``.
    """

    def __call__(self) -> DataDir:
        return self


class _Record:
    """A small immutable record: fields set once, compared and hashed by value, picklable."""

    __slots__: tuple[str, ...] = ()
    _fields: tuple[str, ...] = ()  # in the order the constructor takes them

    def __init__(self, *values: Any) -> None:
        if len(values) != len(self._fields):
            raise TypeError(f"{type(self).__name__} takes {', '.join(self._fields)}")
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())


class Item(_Record):
    """One item of a mapped parent, as ``Parent.items()`` lists it.

    ``id`` is the item's id (``'slope=0.5'``), ``values`` its values (``{'slope': 0.5}``),
    ``status`` how its last run ended (``'completed'``, ``'failed'``...), ``data_dir`` its
    outputs folder, ``data/<id>`` in the parent's folder, and ``metrics`` what its code
    recorded with ``metrics()`` (``{'chi2': 0.31}``; ``{}`` when nothing).
    """

    _fields = ("id", "values", "status", "data_dir", "metrics")
    __slots__ = _fields
    id: str
    values: dict[str, Any]
    status: str
    data_dir: Path
    metrics: dict[str, Any]

    def __init__(
        self,
        id: str,
        values: dict[str, Any],
        status: str,
        data_dir: Path,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(id, values, status, data_dir, metrics or {})

    def __hash__(self) -> int:  # values is a dict: hash what names the item
        return hash((self.id, self.data_dir))


class Parent(_Record):
    """One input of this node: the parent node on the edge into input ``slot``.

    ``id`` and ``tag`` are the parent's, ``slot`` is "01", "02"..., ``folder`` is the parent's
    node folder and ``data_dir`` where its outputs are (see the property). ``items()`` lists
    the items of a mapped parent.
    """

    _fields = ("id", "tag", "slot", "folder")
    __slots__ = _fields
    id: str
    tag: str
    slot: str
    folder: Path

    def __init__(self, id: str, tag: str, slot: str, folder: Path) -> None:
        super().__init__(id, tag, slot, folder)

    @property
    def data_dir(self) -> DataDir:
        """The parent's outputs folder, its ``data/``; usable as a path or called.

        While this node runs one item mapped ``along`` this input, the matching item's folder
        of the parent instead: ``data/<item id>``.
        """
        outputs = self.folder / "data"
        along = os.environ.get(ALONG_VARIABLE)
        current = os.environ.get(ITEM_ID_VARIABLE)
        if along == self.slot and current:
            outputs = outputs / current
        return DataDir(outputs)

    def items(self) -> list[Item]:
        """Every item of this parent, a mapped node, in the order its ``map:`` declares them.

        Read from the ``items.json`` fusionpipe writes in the parent's folder after each run,
        failed items included (check ``status``). ``ValueError`` when the parent is not mapped
        or has not run yet.
        """
        path = self.folder / ITEMS_FILE
        described = f"input {self.slot} ({self.tag!r})"
        try:
            listing = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(
                f"{described} has no items: it is not a mapped node or has not run yet (no {path})"
            ) from None
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot read the items of {described} from {path}: {err}") from err
        entries = listing.get("items") if isinstance(listing, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"{path}, the items of {described}, holds no list of items")
        outputs = self.folder / "data"
        found = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise ValueError(f"{path}, the items of {described}, has an item without an id")
            found.append(
                Item(
                    entry["id"],
                    dict(entry.get("values") or {}),
                    str(entry.get("status") or "ready"),
                    outputs / entry["id"],
                    dict(entry.get("metrics") or {}),
                )
            )
        return found


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
    """Where this node writes its outputs: its ``data/`` folder, or, while fusionpipe runs one
    item of a mapped node, that item's own folder ``data/<item id>``.

    fusionpipe empties it before a stale or failed node (or item) runs again, and downstream
    nodes read it as ``parent(...).data_dir``.
    """
    configured = os.environ.get(DATA_DIR_VARIABLE)
    if configured:
        return Path(configured).absolute()
    return folder() / "data"


def reports_dir() -> Path:
    """Where this node keeps plots and reports (executed notebooks are saved here too)."""
    return folder() / "reports"


def parameters() -> dict[str, Any]:
    """This node's ``code/node_parameters.yaml`` as a dict, with the item's values merged in.

    Read fresh from the file when PyYAML is installed (a ``ValueError`` names the line of a
    syntax error); otherwise the copy fusionpipe keeps in the identity file, refreshed whenever
    parameters are saved from the panel and before every run.

    In a mapped node, the ``map:`` declaration is left out (it says which items exist, not
    what this one is: read that from ``item()``) and the running item's values are added,
    winning over parameters of the same name.
    """
    values = _declared_parameters()
    values.pop("map", None)
    return {**values, **item()}


def _declared_parameters() -> dict[str, Any]:
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


def item() -> dict[str, Any]:
    """The values of the item this process runs, such as ``{'shot': 30101, 'method': 'fast'}``
    (a file item: ``{'file': '/absolute/path/of/the/file.h5'}``).

    ``{}`` in an unmapped node, and outside a run (in a notebook session, say), where no item
    is running.
    """
    text = os.environ.get(ITEM_VARIABLE)
    if not text:
        return {}
    try:
        values = json.loads(text)
    except ValueError as err:
        raise ValueError(f"${ITEM_VARIABLE} is not JSON: {err}") from err
    if not isinstance(values, dict):
        raise ValueError(f"${ITEM_VARIABLE} must be a JSON object, not {text[:80]!r}")
    return values


def item_id() -> str | None:
    """The id of the item this process runs (``'shot=30101,method=fast'``), which is also the
    name of its folder in ``data/``; ``None`` when no item runs."""
    return os.environ.get(ITEM_ID_VARIABLE) or None


_metrics_lock = _thread.allocate_lock()


def metrics(**values: Any) -> dict[str, Any]:
    """Record scalar results of this run (of this item, in a mapped node): ``metrics(chi2=0.31,
    converged=True)``. Returns every metric recorded so far in this run.

    Each call adds to or replaces the names it is given. Values are ``int``, ``float`` (finite),
    ``bool`` or ``str``; other numbers that Python counts as integral or real (numpy scalars,
    fractions) are stored as ``int`` or ``float``. Anything else raises ``TypeError`` naming
    the metric.

    fusionpipe tells a run where to write them (``$FUSIONPIPE_METRICS_FILE``) and keeps them
    per run and per item. Outside a run they go to ``reports/metrics.json`` in the node's
    folder, so the call can be tried in a notebook.
    """
    checked = {name: _scalar(name, value) for name, value in values.items()}
    configured = os.environ.get(METRICS_VARIABLE)
    path = Path(configured).absolute() if configured else reports_dir() / "metrics.json"
    with _metrics_lock:
        recorded: dict[str, Any] = {}
        if path.is_file():
            try:
                recorded = json.loads(path.read_text(encoding="utf-8") or "{}")
            except ValueError as err:
                raise ValueError(f"the metrics file {path} is not JSON: {err}") from err
            if not isinstance(recorded, dict):
                raise ValueError(f"the metrics file {path} must hold a JSON object")
        recorded.update(checked)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed over: a reader never sees half a file. Made with the
        # usual permissions (umask), so colleagues sharing the data folder can read it.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{_thread.get_ident()}")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            with os.fdopen(handle, "w", encoding="utf-8") as output:
                json.dump(recorded, output, allow_nan=False)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return recorded


def _scalar(name: str, value: Any) -> int | float | bool | str:
    import numbers  # here: most nodes never record metrics

    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
        raise TypeError(f"metric {name!r} must be a finite number, not {number}")
    raise TypeError(
        f"metric {name!r} must be an int, a float, a bool or a str, not "
        f"{type(value).__name__} ({value!r:.80})"
    )


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
