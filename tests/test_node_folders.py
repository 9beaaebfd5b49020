"""Node folders on disk: templates, atomic create and copy, removal, locking, path safety."""

from __future__ import annotations

import json
import stat
import time

import pytest

from fusionpipe_server.errors import Conflict, Invalid
from fusionpipe_server.models import NodeKind
from fusionpipe_server.nodes import folders, parameters

IDENTITY = {"node_id": "n_1", "tag": "t", "kind": "python", "project_id": "pr_1", "parents": []}


def make(data_path, name="n_1", kind=NodeKind.PYTHON):
    return folders.create_node_folder(
        data_path, f"pr_1/{name}", kind, {**IDENTITY, "node_id": name}
    )


def writable_bits(path):
    return path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


@pytest.mark.parametrize("kind", list(NodeKind))
def test_each_kind_gets_a_complete_folder(tmp_path, kind):
    folder = make(tmp_path, kind=kind)
    assert sorted(p.name for p in folder.iterdir()) == [
        ".fusionpipe-node.json",
        "code",
        "data",
        "logs",
        "reports",
    ]
    entry = {"python": "main.py", "notebook": "main.ipynb", "matlab": "main.m", "shell": "main.sh"}
    assert (folder / "code" / entry[kind.value]).stat().st_size > 0
    identity = json.loads((folder / ".fusionpipe-node.json").read_text())
    assert identity["format"] == 1 and identity["parameters"] == {"run_mode": "local"}
    assert parameters.parse_parameters(parameters.read_parameters_text(folder)) == {
        "run_mode": "local"
    }


def test_the_notebook_template_is_a_valid_notebook(tmp_path):
    import nbformat

    folder = make(tmp_path, kind=NodeKind.NOTEBOOK)
    nbformat.validate(nbformat.read(folder / "code" / "main.ipynb", as_version=4))


def test_creating_a_folder_is_fast(tmp_path):
    started = time.perf_counter()
    for i in range(50):
        make(tmp_path, f"n_{i}")
    assert (time.perf_counter() - started) / 50 < 0.05


def test_a_failed_create_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(folders, "write_identity", broken)
    with pytest.raises(OSError):
        make(tmp_path)
    assert list((tmp_path / "pr_1").iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path):
    make(tmp_path)
    with pytest.raises(Conflict):
        make(tmp_path)
    assert len(list((tmp_path / "pr_1").iterdir())) == 1


@pytest.mark.parametrize("relative", ["../outside", "/etc", "pr_1/../../x", "", "."])
def test_paths_leaving_the_data_folder_are_refused(tmp_path, relative):
    with pytest.raises(Conflict):
        folders.node_path(tmp_path / "data", relative)


def test_a_link_pointing_out_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pr_1").symlink_to(tmp_path)
    with pytest.raises(Conflict):
        folders.node_path(tmp_path / "data", "pr_1/n_1")


def test_copy_takes_code_and_reports_and_data_only_when_asked(tmp_path):
    source = make(tmp_path, "n_src")
    (source / "data" / "out.csv").write_text("1")
    (source / "reports" / "plot.png").write_bytes(b"png")
    (source / "code" / "__pycache__").mkdir()
    (source / "logs" / "r_1.log").write_text("log")
    folders.set_locked(source, True)

    bare = folders.copy_node_folder(source, tmp_path, "pr_1/n_bare", with_data=False)
    full = folders.copy_node_folder(source, tmp_path, "pr_1/n_full", with_data=True)
    assert (bare / "reports" / "plot.png").exists() and (bare / "code" / "main.py").exists()
    assert list((bare / "data").iterdir()) == []
    assert (full / "data" / "out.csv").read_text() == "1"
    for copy in (bare, full):
        assert not (copy / "code" / "__pycache__").exists()
        assert list((copy / "logs").iterdir()) == []
        assert not (copy / ".fusionpipe-node.json").exists()
        assert writable_bits(copy / "code" / "main.py"), "copies of a locked node are writable"


def test_lock_and_unlock(tmp_path):
    folder = make(tmp_path)
    folders.set_locked(folder, True)
    assert not writable_bits(folder / "code" / "main.py")
    assert not writable_bits(folder / "code")
    assert writable_bits(folder / "logs"), "runs still need to write their logs"
    folders.set_locked(folder, False)
    assert writable_bits(folder / "code" / "main.py") & stat.S_IWUSR


def test_unlock_gives_group_write_in_a_shared_data_folder(tmp_path):
    folder = make(tmp_path)
    (tmp_path / "pr_1").chmod(0o2775)
    folders.set_locked(folder, True)
    folders.set_locked(folder, False)
    assert (folder / "code" / "main.py").stat().st_mode & stat.S_IWGRP


def test_removal_of_a_locked_folder(tmp_path):
    folder = make(tmp_path)
    (folder / "data" / "deep").mkdir()
    (folder / "data" / "deep" / "x").write_text("x")
    folders.set_locked(folder, True)
    aside = folders.move_aside(folder)
    assert not folder.exists()
    folders.purge(aside)
    assert not aside.exists()


def test_clear_outputs_keeps_the_folder(tmp_path):
    folder = make(tmp_path)
    (folder / "data" / "sub").mkdir()
    (folder / "data" / "sub" / "f").write_text("f")
    (folder / "data" / "link").symlink_to(tmp_path)
    folders.clear_outputs(folder)
    assert (folder / "data").is_dir() and list((folder / "data").iterdir()) == []
    assert tmp_path.exists(), "a link is removed, never followed"


def test_parameters_errors_name_the_line(tmp_path):
    with pytest.raises(Invalid, match="line 2, column"):
        parameters.parse_parameters("a: 1\nb: c: d\n")
    with pytest.raises(Invalid, match="mapping"):
        parameters.parse_parameters("- 1\n- 2\n")
    with pytest.raises(Invalid, match="run_mode"):
        parameters.parse_parameters("run_mode: cloud\n")
    assert parameters.parse_parameters("") == {}
    folder = make(tmp_path)
    with pytest.raises(Invalid):
        parameters.write_parameters(folder, "x: [")
    assert parameters.read_parameters_text(folder).startswith("#"), (
        "a refused write changes nothing"
    )
