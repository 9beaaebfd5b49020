"""Original node folders on disk: finding them, what kind of node they hold, and bringing them
into the data folder (copied aside then renamed, or adopted where they are)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
from pathlib import Path

from ..errors import Conflict
from ..folders import kernels
from ..folders.atomic import hidden_sibling, write_atomically
from ..folders.node_folders import SUBFOLDERS, node_path, purge
from ..folders.permissions import CACHES, make_folder, make_project_folder, set_writable
from ..models import ENTRY_POINTS
from .original import OriginalNode
from .outcome import FolderFacts, NodeImport


def locate(node: OriginalNode, from_data: Path) -> Path | None:
    """The node's folder under ``from_data``: where the original recorded it when that is
    inside, else at the original layout's place ``<project_id>/<node_id>`` (the data folder
    was moved), else ``None``."""
    candidates = []
    if node.folder_path:
        recorded = Path(node.folder_path)
        if recorded.is_absolute() and recorded.resolve().is_relative_to(from_data):
            candidates.append(recorded.resolve())
        # A moved data folder: the last two parts are <project_id>/<node_id>.
        candidates.append(from_data.joinpath(*recorded.parts[-2:]))
    if node.project_id:
        candidates.append(from_data / node.project_id / node.node_id)
    for candidate in candidates:
        if candidate.is_dir() and candidate.resolve().is_relative_to(from_data):
            return candidate.resolve()
    return None


def node_kind(folder: Path) -> str | None:
    """The kind whose entry point ``code/`` holds; python first, as the original always ran
    ``main.py``."""
    for kind, entry in ENTRY_POINTS.items():
        if (folder / "code" / entry).is_file():
            return kind.value
    return None


def folder_owner(folder: Path) -> str | None:
    try:
        return pwd.getpwuid(folder.stat().st_uid).pw_name
    except KeyError:  # an id with no account on this machine
        return None


def facts(nodes: list[OriginalNode], from_data: Path) -> dict[str, FolderFacts]:
    found = {}
    for node in nodes:
        path = locate(node, from_data)
        if path is None:
            found[node.node_id] = FolderFacts(None, None, None, None)
        else:
            relative = str(path.relative_to(from_data))
            found[node.node_id] = FolderFacts(path, relative, folder_owner(path), node_kind(path))
    return found


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name in CACHES or name.endswith(".pyc")}


def use_node_kernel(folder: Path, node_id: str, tag: str) -> int:
    """Point notebooks in ``code/`` whose kernel is the original's (named after the node id) to
    this node's kernel; returns how many were changed."""
    changed = 0
    for notebook in sorted((folder / "code").rglob("*.ipynb")):
        if CACHES & set(notebook.relative_to(folder).parts):
            continue
        try:
            document = json.loads(notebook.read_text(encoding="utf-8"))
            spec = document["metadata"]["kernelspec"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a notebook with a kernel: nothing to point elsewhere
        if not isinstance(spec, dict) or spec.get("name") != node_id:
            continue
        spec["name"] = kernels.kernel_name(node_id)
        spec["display_name"] = f"fusionpipe: {tag} ({node_id})"
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        write_atomically(notebook, text.encode())
        changed += 1
    return changed


class FolderImport:
    """The folders of one import: built aside before the transaction, renamed into place
    inside it, and removed again if it fails."""

    def __init__(self, data_path: Path, *, in_place: bool) -> None:
        self.data_path = data_path.resolve()
        self.in_place = in_place
        self._aside: list[tuple[Path, Path]] = []  # (building, target)
        self._published: list[Path] = []
        self._project_folders: list[Path] = []  # made by this import

    def prepare(self, node: NodeImport) -> None:
        """Copy (or, in place, complete) the node's folder; nothing appears at its place yet."""
        node_id, tag = str(node.row["id"]), str(node.row["tag"])
        target = node_path(self.data_path, str(node.row["folder"]))
        if self.in_place and node.source is not None:
            if not os.access(target, os.W_OK):
                set_writable(target)  # a blocked original; locked again after the import
            for sub in SUBFOLDERS:
                make_folder(target / sub, exist_ok=True)
            use_node_kernel(target, node_id, tag)
            return
        if target.exists() or target.is_symlink():
            raise Conflict(
                f"node folder {target} already exists: move it away, or adopt the original "
                "folders with --in-place"
            )
        if not target.parent.exists():
            self._project_folders.append(target.parent)
        make_project_folder(self.data_path, target.parent)
        building = hidden_sibling(target, "new")
        self._aside.append((building, target))
        if node.source is None:
            make_folder(building)
        else:
            shutil.copytree(node.source, building, symlinks=True, ignore=_ignore)
            # copytree keeps the modes: a blocked original would give a read-only copy.
            set_writable(building)
        for sub in SUBFOLDERS:
            make_folder(building / sub, exist_ok=True)
        use_node_kernel(building, node_id, tag)

    def publish(self) -> None:
        """Rename every prepared folder into its place."""
        for building, target in self._aside:
            if target.exists():
                raise Conflict(f"node folder {target} appeared during the import")
            building.rename(target)
            self._published.append(target)

    def discard(self) -> None:
        """Undo: remove what was copied, published or not. Adopted folders stay."""
        for path in self._published:
            purge(path)
        for building, _ in self._aside:
            purge(building)
        for folder in self._project_folders:
            if not any(folder.iterdir()):
                folder.rmdir()
        self._aside.clear()
        self._published.clear()
        self._project_folders.clear()
