"""Node folders on disk: templates, atomic create and copy, removal, locking, path safety."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import traceback
from pathlib import Path

import nbformat
import pytest

from fusionpipe_server.errors import Conflict, Invalid
from fusionpipe_server.folders import node_folders as folders
from fusionpipe_server.folders import parameters
from fusionpipe_server.models import NodeKind

IDENTITY = {"tag": "t", "kind": "python", "project_id": "pr_1", "parents": []}
WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def make(data_path, name="n_1", kind=NodeKind.PYTHON):
    ident = {**IDENTITY, "node_id": name, "kind": str(getattr(kind, "value", kind))}
    return folders.create_node_folder(data_path, f"pr_1/{name}", kind, ident)


def mode(path):
    return stat.S_IMODE(path.lstat().st_mode)


def read_identity(folder):
    return json.loads((folder / ".fusionpipe-node.json").read_text())


def every_path(folder):
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            yield Path(root, name)


@pytest.mark.parametrize("kind", list(NodeKind))
def test_each_kind_gets_a_complete_folder(tmp_path, kind):
    folder = make(tmp_path, kind=kind)
    assert folder == (tmp_path / "pr_1" / "n_1").resolve()
    assert sorted(p.name for p in folder.iterdir()) == [
        ".fusionpipe-node.json",
        "code",
        "data",
        "logs",
        "reports",
    ]
    entry = {"python": "main.py", "notebook": "main.ipynb", "matlab": "main.m", "shell": "main.sh"}
    assert sorted(p.name for p in (folder / "code").iterdir()) == sorted(
        [entry[kind.value], "node_parameters.yaml"]
    )
    assert read_identity(folder) == {
        "format": 1,
        "node_id": "n_1",
        "tag": "t",
        "kind": kind.value,
        "project_id": "pr_1",
        "parents": [],
        "parameters": {"run_mode": "local"},
    }
    assert parameters.read_parameters(folder) == {"run_mode": "local"}
    assert [p.name for p in (tmp_path / "pr_1").iterdir()] == ["n_1"], "no temporary left"


def test_the_python_template_compiles_and_the_shell_one_is_executable(tmp_path):
    python = make(tmp_path, "n_py") / "code" / "main.py"
    compile(python.read_text(), str(python), "exec")
    shell = make(tmp_path, "n_sh", NodeKind.SHELL) / "code" / "main.sh"
    assert mode(shell) & stat.S_IXUSR
    syntax = subprocess.run(["bash", "-n", str(shell)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def test_the_notebook_template_is_a_valid_notebook(tmp_path):
    folder = make(tmp_path, kind=NodeKind.NOTEBOOK)
    notebook = nbformat.read(folder / "code" / "main.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert any("fusionpipe.data_dir()" in cell.source for cell in notebook.cells)


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(Invalid, match="kind must be one of python, notebook, matlab, shell"):
        make(tmp_path, kind="fortran")
    assert not (tmp_path / "pr_1" / "n_1").exists()


def test_creating_starts_no_process(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a node folder is made without starting any process")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(os, "system", refuse)
    for kind in NodeKind:
        make(tmp_path, f"n_{kind.value}", kind)


def test_a_failure_midway_leaves_nothing(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # The identity file is written last, after code/, data/... exist in the hidden folder.
    monkeypatch.setattr(folders, "write_identity", disk_full)
    with pytest.raises(OSError, match="No space"):
        make(tmp_path)
    assert list((tmp_path / "pr_1").iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path):
    folder = make(tmp_path)
    (folder / "data" / "precious").write_text("x")
    with pytest.raises(Conflict, match="already exists"):
        make(tmp_path)
    assert (folder / "data" / "precious").read_text() == "x"
    assert [p.name for p in (tmp_path / "pr_1").iterdir()] == ["n_1"]


@pytest.mark.parametrize(
    "relative", ["../outside", "/etc", "/tmp/pr_1/n_1", "pr_1/../../x", "pr_1/../..", "", "."]
)
def test_paths_leaving_the_data_folder_are_refused(tmp_path, relative):
    (tmp_path / "data").mkdir()
    with pytest.raises(Conflict, match="not inside the data folder"):
        folders.node_path(tmp_path / "data", relative)


@pytest.mark.parametrize(
    "relative", ["../outside", "/etc", "/tmp/pr_1/n_1", "pr_1/../../x", "pr_1/../..", "", "."]
)
def test_many_paths_at_once_refuse_what_one_path_refuses(tmp_path, relative):
    (tmp_path / "data" / "pr_1").mkdir(parents=True)
    with pytest.raises(Conflict, match="not inside the data folder"):
        folders.node_paths(tmp_path / "data", ["pr_1/n_ok", relative])


def test_many_paths_at_once_check_a_node_folder_that_is_a_link(tmp_path):
    data = tmp_path / "data"
    (data / "pr_1" / "n_real").mkdir(parents=True)
    (data / "pr_1" / "n_in").symlink_to(data / "pr_1" / "n_real")
    (data / "pr_1" / "n_out").symlink_to(tmp_path)
    found = folders.node_paths(data, ["pr_1/n_real", "pr_1/n_in", "pr_1/n_missing"])
    assert found == {
        relative: str(folders.node_path(data, relative))
        for relative in ["pr_1/n_real", "pr_1/n_in", "pr_1/n_missing"]
    }
    assert found["pr_1/n_in"] == str((data / "pr_1" / "n_real").resolve())
    with pytest.raises(Conflict):
        folders.node_paths(data, ["pr_1/n_real", "pr_1/n_out"])


def test_a_link_pointing_out_is_refused_and_one_inside_is_followed(tmp_path):
    data = tmp_path / "data"
    (data / "pr_real").mkdir(parents=True)
    (data / "pr_out").symlink_to(tmp_path)
    (data / "pr_in").symlink_to(data / "pr_real")
    with pytest.raises(Conflict):
        folders.node_path(data, "pr_out/n_1")
    with pytest.raises(Conflict):
        folders.create_node_folder(data, "pr_out/n_1", NodeKind.PYTHON, IDENTITY)
    assert not (tmp_path / "n_1").exists()
    assert folders.node_path(data, "pr_in/n_1") == (data / "pr_real" / "n_1").resolve()


def test_copy_takes_code_and_reports_and_data_only_when_asked(tmp_path):
    source = make(tmp_path, "n_src")
    (source / "data" / "out.csv").write_text("1")
    (source / "reports" / "plot.png").write_bytes(b"png")
    (source / "code" / "lib" / "__pycache__").mkdir(parents=True)
    (source / "code" / "lib" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"")
    (source / "code" / "old.pyc").write_bytes(b"")
    (source / "code" / ".venv" / "bin").mkdir(parents=True)
    (source / "code" / ".ipynb_checkpoints").mkdir()
    (source / "code" / "data").mkdir()  # the user's own folders named like node ones are kept
    (source / "code" / "logs").mkdir()
    (source / "logs" / "r_1.log").write_text("log")
    (source / "code" / "link").symlink_to("main.py")
    folders.set_locked(source, True)

    bare = folders.copy_node_folder(source, tmp_path, "pr_2/n_bare", with_data=False)
    full = folders.copy_node_folder(source, tmp_path, "pr_2/n_full", with_data=True)
    assert list((bare / "data").iterdir()) == []
    assert (full / "data" / "out.csv").read_text() == "1"
    for copy in (bare, full):
        assert (copy / "reports" / "plot.png").read_bytes() == b"png"
        assert sorted(p.name for p in (copy / "code").iterdir()) == [
            "data",
            "lib",
            "link",
            "logs",
            "main.py",
            "node_parameters.yaml",
        ]
        assert list((copy / "code" / "lib").iterdir()) == []
        assert os.readlink(copy / "code" / "link") == "main.py", "links are copied as links"
        assert list((copy / "logs").iterdir()) == []
        for path in every_path(copy):
            assert path.is_symlink() or mode(path) & stat.S_IWUSR, (
                "a locked node's copy is writable"
            )
        assert read_identity(copy)["node_id"] == copy.name
        assert read_identity(copy)["project_id"] == "pr_2"
        assert read_identity(copy)["tag"] == "t", "the rest of the identity is the source's"
    assert not mode(source / "code" / "main.py") & WRITE, "the source stays locked"
    assert sorted(p.name for p in (tmp_path / "pr_2").iterdir()) == ["n_bare", "n_full"]


def test_copy_takes_the_identity_given(tmp_path):
    source = make(tmp_path, "n_src")
    parents = [{"id": "n_p", "tag": "p", "slot": "01", "folder": "pr_1/n_p"}]
    copy = folders.copy_node_folder(
        source, tmp_path, "pr_1/n_copy", with_data=False, identity={"parents": parents}
    )
    assert read_identity(copy)["parents"] == parents


def test_a_failed_copy_leaves_nothing(tmp_path):
    source = make(tmp_path, "n_src")
    (source / "data" / "big").write_text("x" * 1000)
    os.mkfifo(source / "data" / "pipe")  # copying a named pipe fails, after code/ is copied
    with pytest.raises(shutil.Error, match="named pipe"):
        folders.copy_node_folder(source, tmp_path, "pr_1/n_copy", with_data=True)
    assert [p.name for p in (tmp_path / "pr_1").iterdir()] == ["n_src"]


def test_lock_and_unlock_set_the_mode_bits(tmp_path):
    folder = make(tmp_path)
    (folder / "code" / ".venv").mkdir()
    (folder / "code" / "__pycache__").mkdir()
    (folder / "logs" / "r_1.log").write_text("log")
    (folder / "data" / "sub").mkdir()
    (folder / "data" / "sub" / "x").write_text("x")
    folders.set_locked(folder, True)
    for path in (folder, folder / "code", folder / "code" / "main.py", folder / "data" / "sub"):
        assert not mode(path) & WRITE, path
    assert not mode(folder / "data" / "sub" / "x") & WRITE
    for path in (folder / "logs", folder / "logs" / "r_1.log", folder / "code" / ".venv"):
        assert mode(path) & stat.S_IWUSR, f"{path} stays writable: runs and tools write there"
    assert mode(folder / "code" / "__pycache__") & stat.S_IWUSR

    folders.set_locked(folder, False)
    for path in (folder, folder / "code", folder / "code" / "main.py", folder / "data" / "sub"):
        assert mode(path) & stat.S_IWUSR, path
        assert not mode(path) & (stat.S_IWGRP | stat.S_IWOTH), "a private folder stays private"


def test_unlock_gives_group_write_in_a_shared_data_folder(tmp_path):
    (tmp_path / "pr_1").mkdir(mode=0o700)
    (tmp_path / "pr_1").chmod(0o2770)
    folder = make(tmp_path)
    assert mode(folder / "code" / "main.py") & stat.S_IWGRP, "new nodes are shared at once"
    folders.set_locked(folder, True)
    assert not mode(folder / "code" / "main.py") & WRITE
    folders.set_locked(folder, False)
    assert mode(folder / "code" / "main.py") & (stat.S_IRGRP | stat.S_IWGRP) == (
        stat.S_IRGRP | stat.S_IWGRP
    )
    assert mode(folder / "code") & stat.S_IRWXG == stat.S_IRWXG
    assert not mode(folder / "code" / "main.py") & stat.S_IWOTH


def test_identity_written_into_a_locked_folder_keeps_it_locked(tmp_path):
    folder = make(tmp_path)
    folders.set_locked(folder, True)
    before = mode(folder)
    folders.write_identity(folder, {**read_identity(folder), "tag": "renamed"})
    assert read_identity(folder)["tag"] == "renamed"
    assert mode(folder) == before
    assert sorted(p.name for p in folder.iterdir())[0] == ".fusionpipe-node.json", "no temp left"


def test_removal_of_a_locked_folder(tmp_path):
    folder = make(tmp_path)
    (folder / "data" / "deep" / "er").mkdir(parents=True)
    (folder / "data" / "deep" / "er" / "x").write_text("x")
    (folder / "data" / "deep").chmod(0o500)  # read-only even for its owner
    (folder / "data" / "outside").symlink_to(tmp_path / "keep")
    (tmp_path / "keep").write_text("keep")
    folders.set_locked(folder, True)
    folders.remove_node_folder(folder)
    assert list((tmp_path / "pr_1").iterdir()) == []
    assert (tmp_path / "keep").read_text() == "keep", "links are removed, never followed"


def locked_node_life(root: Path) -> None:
    """What a locked node must allow and refuse, checked by the kernel's permission checks."""
    folder = make(root)
    (folder / "data" / "deep").mkdir()
    (folder / "data" / "deep" / "x").write_text("x")
    folders.set_locked(folder, True)
    for attempt in (
        lambda: (folder / "code" / "main.py").write_text("changed"),
        lambda: (folder / "data" / "new.csv").write_text("1"),
        lambda: (folder / "data" / "deep" / "x").unlink(),
    ):
        with pytest.raises(PermissionError):
            attempt()
    (folder / "logs" / "r_1.log").write_text("a run's log is still written")
    folders.write_identity(folder, {**read_identity(folder), "tag": "renamed"})
    copy = folders.copy_node_folder(folder, root, "pr_1/n_copy", with_data=True)
    (copy / "code" / "main.py").write_text("the copy is mine to edit")
    (copy / "data" / "deep" / "y").write_text("y")
    folders.clear_outputs(copy)
    folders.set_locked(folder, False)
    (folder / "code" / "main.py").write_text("unlocked")
    folders.set_locked(folder, True)
    folders.remove_node_folder(folder)
    assert [p.name for p in (root / "pr_1").iterdir()] == ["n_copy"]


def test_a_locked_node_as_an_ordinary_user(tmp_path):
    if os.geteuid() != 0:
        locked_node_life(tmp_path)
        return
    # As root every access is allowed: drop to an ordinary user in a forked child (a new
    # interpreter could not start: it lives in root's home) in a folder that user owns.
    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="fusionpipe-nobody-"))
    os.chown(root, nobody.pw_uid, nobody.pw_gid)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - reported through the pipe
        status = 1
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            locked_node_life(root)
            status = 0
        except BaseException:
            os.write(write_end, traceback.format_exc().encode())
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        failure = report.read()
    _, status = os.waitpid(child, 0)
    shutil.rmtree(root)
    assert os.waitstatus_to_exitcode(status) == 0, failure


def test_project_folders_in_a_shared_data_folder_are_shared_too(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2775)
    node = folders.create_node_folder(shared, "pr_9/n_9", NodeKind.PYTHON, IDENTITY)
    project_mode = node.parent.stat().st_mode
    assert project_mode & stat.S_IWGRP and project_mode & stat.S_ISGID
    private = tmp_path / "private"
    private.mkdir(mode=0o755)
    alone = folders.create_node_folder(private, "pr_9/n_9", NodeKind.PYTHON, IDENTITY)
    assert not alone.parent.stat().st_mode & stat.S_IWGRP
