"""The original fusionpipe's ``fp_user_utils.user_api``, with its names and return shapes.

The original asked its database; this module reads the node's identity file through the
``fusionpipe`` package instead, so it needs no database. Functions that took a database
cursor accept one and ignore it; ``connect_to_db`` returns a stand-in whose cursor can be
passed to them but cannot run SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fusionpipe
from fusionpipe import IDENTITY_FILE, NotInNodeError

__all__ = [
    "connect_to_db",
    "get_current_node_folder_path",
    "get_current_node_folder_path_code",
    "get_current_node_folder_path_data",
    "get_current_node_folder_path_reports",
    "get_current_node_id",
    "get_info_parents",
    "get_node_folder_path_db",
    "get_node_parents_and_edge_ids",
    "get_parent_folder_path_from_edge_id",
    "get_parent_info_from_edge_id",
]


class _NoDatabase:
    """What ``connect_to_db`` returns: a connection and cursor that run no SQL."""

    def cursor(self, *args: Any, **kwargs: Any) -> _NoDatabase:
        return self

    def execute(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            "fp_user_utils here has no database: fusionpipe gives a node its parents and "
            "folders through its identity file (see the fusionpipe package)"
        )

    def close(self) -> None:
        """Nothing to close."""

    commit = rollback = close

    def __enter__(self) -> _NoDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_to_db(db_url: str | None = None) -> _NoDatabase:
    """A stand-in connection (``db_url`` is ignored): pass its cursor to the functions below."""
    return _NoDatabase()


def get_current_node_id() -> str | None:
    """This node's id, or None outside a node."""
    try:
        return fusionpipe.node_id()
    except NotInNodeError:
        return None


def get_current_node_folder_path() -> str:
    """This node's folder; ``ValueError`` outside a node, as in the original."""
    try:
        return str(fusionpipe.folder())
    except NotInNodeError as err:
        raise ValueError(f"no node id found: {err}") from err


def _sub_folder(name: str) -> str:
    path = Path(get_current_node_folder_path()) / name
    if not path.is_dir():
        raise FileNotFoundError(f"the node's {name} folder does not exist: {path}")
    return str(path)


def get_current_node_folder_path_data() -> str:
    """This node's data folder; while fusionpipe runs one item of a mapped node, that item's own
    folder (as ``fusionpipe.data_dir()``), so that the items of old code never overwrite one
    another's outputs."""
    get_current_node_folder_path()  # a ValueError outside a node, as in the original
    path = fusionpipe.data_dir()
    if not path.is_dir():
        raise FileNotFoundError(f"the node's data folder does not exist: {path}")
    return str(path)


def get_current_node_folder_path_code() -> str:
    return _sub_folder("code")


def get_current_node_folder_path_reports() -> str:
    return _sub_folder("reports")


def _node_folder(node_id: str) -> Path | None:
    """The folder of ``node_id``: this node, one of its parents, or any node of the data
    folder (``<data>/<project>/<node>``); None when it is none of these."""
    here = fusionpipe.folder()
    if fusionpipe.node_id() == node_id:
        return here
    for parent in fusionpipe.parents():
        if parent.id == node_id:
            return parent.folder
    for candidate in sorted(here.parent.parent.glob(f"*/{node_id}/{IDENTITY_FILE}")):
        return candidate.parent
    return None


def _parents_of(node_id: str) -> list[fusionpipe.Parent]:
    """The inputs of ``node_id``, read from its identity file like ``fusionpipe.parents``."""
    folder = _node_folder(node_id)
    if folder is None:
        return []
    if folder == fusionpipe.folder():
        return fusionpipe.parents()
    root = folder.parent.parent
    identity = fusionpipe._identity(folder)
    found = [
        fusionpipe.Parent(str(e["id"]), str(e["tag"]), str(e["slot"]), root / e["folder"])
        for e in identity.get("parents") or []
    ]
    return sorted(found, key=lambda p: (len(p.slot), p.slot))


def get_node_parents_and_edge_ids(cur: object, node_id: str) -> dict[str, str]:
    """``{parent_id: edge_id}`` of a node (``cur`` is ignored)."""
    return {parent.id: parent.slot for parent in _parents_of(node_id)}


def get_node_folder_path_db(cur: object, node_id: str) -> str | None:
    """The folder of a node, or None (``cur`` is ignored)."""
    folder = _node_folder(node_id)
    return None if folder is None else str(folder)


def get_info_parents(node_id: str) -> list[dict[str, str]]:
    """``[{node_id, node_tag, folder_path, edge_id}]`` for each parent of ``node_id``."""
    return [
        {"node_id": p.id, "node_tag": p.tag, "folder_path": str(p.folder), "edge_id": p.slot}
        for p in _parents_of(node_id)
    ]


def get_parent_info_from_edge_id(edge_id: str) -> dict[str, str] | None:
    """The parent of this node on edge (slot) ``edge_id``, such as ``"01"``, or None."""
    node_id = get_current_node_id()
    if node_id is None:
        return None
    return next((p for p in get_info_parents(node_id) if p["edge_id"] == str(edge_id)), None)


def get_parent_folder_path_from_edge_id(edge_id: str) -> str | None:
    """The folder of this node's parent on edge ``edge_id``, or None."""
    info = get_parent_info_from_edge_id(edge_id)
    return None if info is None else info["folder_path"]
