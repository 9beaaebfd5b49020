"""The files of a pipeline export: node code gathered, written to a folder or a zip, and a zip
read back with every path, link and size checked before anything lands on disk."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..core import pipeline_file
from ..errors import Invalid
from .parameters import PARAMETERS_FILE, check_parameters
from .permissions import CACHES, closed_to_others, make_folder

# Never exported: environments and caches (rebuilt), and a node's own git history.
EXCLUDED = CACHES | {".git"}
MAX_ZIP_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 10_000
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
_CHUNK = 1024 * 1024
# Zip entries carry no time that matters here: a fixed one makes equal exports equal zips.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: where it goes (POSIX, relative) and where it comes from."""

    path: str
    source: Path
    executable: bool


def code_files(code: Path) -> list[tuple[str, Path]]:
    """The files of a ``code/`` folder that an export holds, as (relative POSIX path, file), in
    path order: caches, environments, ``.git`` and links left out."""
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(code):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED and not Path(root, d).is_symlink())
        for name in files:
            path = Path(root, name)
            if name.endswith(".pyc") or path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(code).as_posix(), path))
    return sorted(found)


def digest(files: list[tuple[str, Path]]) -> str:
    """A hash of the files' names and contents."""
    hasher = hashlib.sha256()
    for relative, path in files:
        hasher.update(relative.encode() + b"\0")
        hasher.update(path.read_bytes())
        hasher.update(b"\0")
    return hasher.hexdigest()


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


# -- writing -----------------------------------------------------------------------------------


def write_folder(target: Path, document: str, folders: list[str], files: list[ExportFile]) -> None:
    """Write an export into ``target``: a new or empty folder, or a previous export (a git
    checkout, say), whose ``pipeline.yaml`` and ``nodes/`` are replaced and whose other files
    (``.git``, a README) are kept. Built aside and swapped in, so a failure changes nothing.
    ``folders``: every node's ``code/``, made even when it holds no file."""
    target.mkdir(parents=True, exist_ok=True)
    own = target / pipeline_file.FILE_NAME
    if any(target.iterdir()) and not own.is_file():
        raise Invalid(f"{target} is not empty and holds no {pipeline_file.FILE_NAME}")
    staging = Path(tempfile.mkdtemp(prefix=".fusionpipe-export-", dir=target))
    try:
        for folder in folders:
            (staging / folder).mkdir(parents=True)
        for entry in files:
            destination = staging / entry.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry.source, destination)
            destination.chmod(0o755 if entry.executable else 0o644)
        (staging / pipeline_file.NODES_FOLDER).mkdir(exist_ok=True)
        (staging / pipeline_file.FILE_NAME).write_text(document, encoding="utf-8")
        nodes = target / pipeline_file.NODES_FOLDER
        if nodes.exists():
            nodes.rename(staging / "previous-nodes")
        (staging / pipeline_file.NODES_FOLDER).rename(nodes)
        (staging / pipeline_file.FILE_NAME).replace(own)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_zip(document: str, folders: list[str], files: list[ExportFile]) -> bytes:
    """The export as a zip, entries in path order with a fixed time: equal exports, equal bytes.
    ``folders`` (every node's ``code/``) are entries too, so an empty one is not lost."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries: list[tuple[str, Path | None, bool]] = [(pipeline_file.FILE_NAME, None, False)]
        entries += [(f.path, f.source, f.executable) for f in files]
        for folder in sorted(folders):
            info = zipfile.ZipInfo(f"{folder}/", date_time=_ZIP_TIME)
            info.external_attr = (stat.S_IFDIR | 0o755) << 16
            archive.writestr(info, b"")
        for name, source, executable in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            data = document.encode() if source is None else source.read_bytes()
            archive.writestr(info, data)
    return buffer.getvalue()


# -- reading -----------------------------------------------------------------------------------


def extract_zip(data: bytes, destination: Path) -> Path:
    """Unpack an uploaded export into ``destination`` (an empty folder) and return the folder
    holding its ``pipeline.yaml`` (the zip's root, or its one top folder). Refused with
    ``Invalid``: anything not a zip, absolute or ``..`` paths, links and other special files,
    too many entries, and more than ``MAX_UNPACKED_BYTES`` unpacked (counted as it is read, so
    a zip that lies about its sizes is caught too)."""
    if len(data) > MAX_ZIP_BYTES:
        raise Invalid(f"the zip is larger than {MAX_ZIP_BYTES // 1024 // 1024} MiB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise Invalid(f"the upload is not a zip file: {err}") from err
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise Invalid(f"the zip holds more than {MAX_ENTRIES} entries")
        paths = [_safe_path(entry) for entry in entries]
        unpacked = 0
        for entry, path in zip(entries, paths, strict=True):
            if path is None:
                continue
            try:
                unpacked += _unpack(archive, entry, destination.joinpath(*path.parts), unpacked)
            except (zipfile.BadZipFile, EOFError, OSError) as err:
                # A corrupt entry, two entries of one name, a file where a folder must be...
                raise Invalid(f"the zip entry {entry.filename!r} cannot be read: {err}") from err
    return _export_root(destination)


def _unpack(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, before: int) -> int:
    """Write one entry; returns its unpacked size (``before``: what earlier entries took)."""
    if entry.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with archive.open(entry) as source, target.open("xb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if before + size > MAX_UNPACKED_BYTES:
                raise Invalid(
                    f"the zip unpacks to more than {MAX_UNPACKED_BYTES // 1024 // 1024} MiB"
                )
            out.write(chunk)
    if (entry.external_attr >> 16) & stat.S_IXUSR:
        target.chmod(0o755)
    return size


def _safe_path(entry: zipfile.ZipInfo) -> PurePosixPath | None:
    """The entry's relative path, or None for the root itself; ``Invalid`` if unsafe."""
    name = entry.filename
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise Invalid(f"the zip holds a symbolic link ({name!r}): links are refused")
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise Invalid(f"the zip entry {name!r} is not a plain file or folder")
    path = PurePosixPath(name)
    if "\\" in name or "\0" in name or path.is_absolute() or ".." in path.parts:
        raise Invalid(f"the zip entry {name!r} leads outside the export: refused")
    if path.parts and ":" in path.parts[0]:
        raise Invalid(f"the zip entry {name!r} names a drive: refused")
    return path if path.parts else None


def _export_root(folder: Path) -> Path:
    if (folder / pipeline_file.FILE_NAME).is_file():
        return folder
    inside = list(folder.iterdir())
    if len(inside) == 1 and (inside[0] / pipeline_file.FILE_NAME).is_file():
        return inside[0]
    raise Invalid(f"the zip holds no {pipeline_file.FILE_NAME} (at its root or in one folder)")


@dataclass(frozen=True)
class ImportedNode:
    node: pipeline_file.FileNode
    files: list[tuple[str, Path]]


def read_export(folder: Path) -> tuple[pipeline_file.PipelineFile, list[ImportedNode]]:
    """Read and check an export folder before anything is created: ``pipeline.yaml``, one
    ``nodes/<name>/code/`` per node with no links in it, and valid node parameters. Other files
    (a README, ``.git``) are left alone."""
    own = folder / pipeline_file.FILE_NAME
    if own.is_symlink() or not own.is_file():
        raise Invalid(f"{folder} holds no {pipeline_file.FILE_NAME}")
    if own.stat().st_size > pipeline_file.MAX_FILE_BYTES:
        raise Invalid(f"{pipeline_file.FILE_NAME} is larger than it can be")
    document = pipeline_file.parse(own.read_bytes())
    nodes_folder = folder / pipeline_file.NODES_FOLDER
    imported = []
    for node in document.nodes:
        code = nodes_folder / node.name / "code"
        where = f"{pipeline_file.NODES_FOLDER}/{node.name}/code"
        if code.is_symlink() or not code.is_dir():
            raise Invalid(f"{where} is missing: pipeline.yaml names node {node.name!r}")
        _refuse_links(code, where)
        files = code_files(code)
        parameters = dict(files).get(PARAMETERS_FILE.name)
        if parameters is not None:
            try:
                check_parameters(parameters.read_text(encoding="utf-8", errors="replace"))
            except Invalid as err:
                raise Invalid(f"{where}: {err.message}") from err
        imported.append(ImportedNode(node, files))
    return document, imported


def _refuse_links(code: Path, where: str) -> None:
    for root, dirs, files in os.walk(code):
        for name in (*dirs, *files):
            if Path(root, name).is_symlink():
                relative = Path(root, name).relative_to(code).as_posix()
                raise Invalid(f"{where}/{relative} is a symbolic link: links are refused")


def copy_code(files: list[tuple[str, Path]], code: Path) -> None:
    """Replace a new node's template ``code/`` with imported files."""
    shutil.rmtree(code)
    make_folder(code)
    for relative, source in files:
        destination = code / relative
        make_folder(destination.parent, parents=True, exist_ok=True)
        with source.open("rb") as src, open(destination, "wb", opener=closed_to_others) as dst:
            shutil.copyfileobj(src, dst)
        if is_executable(source):
            executable = stat.S_IXUSR | stat.S_IXGRP
            destination.chmod(stat.S_IMODE(destination.stat().st_mode) | executable)
