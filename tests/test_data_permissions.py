"""Nobody outside the group reads the data (#25): what fusionpipe creates under the data folder
gives others nothing whatever the umask, node processes start with umask 007, and the doctor
names what others can reach, bounded, without following links."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fusionpipe_server.cli import admin
from fusionpipe_server.folders import cache_folders, exchange, item_folders, kernels, logs, venvs
from fusionpipe_server.folders import node_folders as folders
from fusionpipe_server.folders.permissions import (
    NODE_UMASK,
    close_to_others,
    closed_to_others,
    make_folder,
)
from fusionpipe_server.models import ENTRY_POINTS, NodeKind
from fusionpipe_server.runners import ray_task
from fusionpipe_server.runners.base import NodeJob
from fusionpipe_server.runners.local import LocalRunner

IDENTITY = {"tag": "t", "project_id": "pr_1", "parents": []}


@pytest.fixture(params=[0o000, 0o022, 0o002])
def umask(request):
    """The user's umask, as permissive as it gets (000) and the common ones."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(root: Path) -> list[str]:
    """Every path under ``root`` (included) whose own mode gives others a bit: stricter than
    the doctor, which stops at closed folders."""
    found = [str(root)] if mode(root) & stat.S_IRWXO else []
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder, name)
            if not path.is_symlink() and mode(path) & stat.S_IRWXO:
                found.append(str(path))
    return found


def test_make_folder_closes_every_folder_it_creates_parents_too(tmp_path, umask):
    make_folder(tmp_path / "a" / "b" / "c", parents=True)
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert mode(path) == 0o770 & ~umask, path
    make_folder(tmp_path / "a", exist_ok=True)
    with pytest.raises(FileExistsError):
        make_folder(tmp_path / "a")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError):
        make_folder(tmp_path / "file", exist_ok=True)


def test_the_opener_closes_new_files_and_leaves_existing_ones(tmp_path, umask):
    with open(tmp_path / "new", "w", opener=closed_to_others) as stream:
        stream.write("x")
    assert mode(tmp_path / "new") == 0o660 & ~umask
    old = tmp_path / "old"
    old.write_text("x")
    old.chmod(0o604)
    with open(old, "a", opener=closed_to_others) as stream:
        stream.write("y")
    assert mode(old) == 0o604, "the opener decides only for files it creates"


def test_close_to_others_never_changes_what_a_link_points_to(tmp_path):
    tmp_path.chmod(0o755)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True, mode=0o755)
    tree.chmod(0o755)
    (tree / "sub" / "f").write_text("x")
    (tree / "sub" / "f").chmod(0o647)
    (tree / "link").symlink_to(outside)
    (tree / "dirlink").symlink_to(tmp_path)
    assert close_to_others(tree).note("it") is None
    assert open_to_others(tree) == []
    assert mode(tree / "sub" / "f") == 0o640
    assert mode(outside) == 0o644 and mode(tmp_path) == 0o755


@pytest.mark.parametrize("kind", list(NodeKind))
def test_a_new_node_folder_gives_others_nothing(tmp_path, umask, kind):
    data = tmp_path / "data"
    folder = folders.create_node_folder(
        data, "pr_1/n_1", kind, {**IDENTITY, "node_id": "n_1", "kind": kind.value}
    )
    assert open_to_others(data) == []
    if kind is NodeKind.SHELL:
        script = folder / "code" / ENTRY_POINTS[kind]
        assert mode(script) & stat.S_IXUSR and not mode(script) & stat.S_IXOTH


def test_a_copy_of_an_open_node_folder_is_closed(tmp_path, umask):
    """An old node (or an original's) open to all is copied closed: copytree keeps modes."""
    data = tmp_path / "data"
    source = folders.create_node_folder(
        data, "pr_1/n_1", "python", {**IDENTITY, "node_id": "n_1", "kind": "python"}
    )
    (source / "data" / "out.txt").write_text("x")
    for path in (source, *source.rglob("*")):
        path.chmod(0o777 if path.is_dir() else 0o666)
    copy = folders.copy_node_folder(source, data, "pr_1/n_2", with_data=True)
    assert open_to_others(copy) == []


def test_imported_code_is_closed_and_keeps_its_owner_and_group_execute_bits(tmp_path, umask):
    source = tmp_path / "unpacked"
    source.mkdir()
    (source / "run.sh").write_text("echo hi\n")
    (source / "run.sh").chmod(0o755)
    (source / "lib.py").write_text("")
    (source / "lib.py").chmod(0o666)
    code = tmp_path / "node" / "code"
    make_folder(code, parents=True)
    files = [("run.sh", source / "run.sh"), ("pkg/lib.py", source / "lib.py")]
    exchange.copy_code(files, code)
    assert open_to_others(code) == []
    assert mode(code / "run.sh") & 0o110 == 0o110


def test_outputs_items_cache_kernels_and_logs_give_others_nothing(tmp_path, umask):
    data = tmp_path / "data"
    folder = folders.create_node_folder(
        data, "pr_1/n_1", "python", {**IDENTITY, "node_id": "n_1", "kind": "python"}
    )
    (folder / "data" / "out.txt").write_text("x")
    (folder / "data" / "out.txt").chmod(0o644)  # a node that opened its own output
    close_to_others(folder / "data")
    assert cache_folders.stash(data, folder / "data", "entry") is not None
    cache_folders.restore(data / cache_folders.CACHE_DIR / "entry", folder / "data")
    item_folders.prepare(folder, "item-1")
    kernels.write_kernelspec(data, "n_1", "t", folder)
    logs.append(folder / "logs" / "items" / "item-1" / "r_1.log", "fusionpipe: line\n")
    folders.clear_outputs(folder)
    aside = folders.set_aside_outputs(folder)
    folders.purge(aside)
    assert (data / ".fusionpipe" / "kernels").is_dir() and (folder / "logs" / "items").is_dir()
    assert open_to_others(data) == []


def test_a_node_process_writes_nothing_others_can_read(tmp_path, umask):
    """Under the server's umask, even 000, the node starts with 007: its files, its log and
    its exit file are closed to others."""
    folder = tmp_path / "node"
    make_folder(folder / "logs", parents=True)
    script = "umask; echo out > made-by-node; mkdir made-folder"
    job = NodeJob(
        run_id="r_1",
        node_id="n_1",
        argv=("/bin/sh", "-c", script),
        cwd=folder,
        env={"PATH": os.environ["PATH"]},
        log_path=folder / "logs" / "r_1.log",
    )

    async def run() -> int:
        return await (await LocalRunner().start(job)).wait()

    assert asyncio.run(run()) == 0
    assert (folder / "logs" / "r_1.log").read_text().strip() == f"{NODE_UMASK:04o}"
    assert (folder / "logs" / "r_1.exit").exists()
    assert open_to_others(folder) == []


def test_a_node_on_a_ray_worker_writes_nothing_others_can_read(tmp_path, umask):
    """The Ray task's body, run here as a worker would (it is standard library only): the
    umask comes from the server with the task, the log is created closed."""
    folder = tmp_path / "node"
    make_folder(folder / "logs", parents=True)
    log = folder / "logs" / "r_1.log"
    argv = ["/bin/sh", "-c", "umask; echo out > made-by-node"]
    env = {"PATH": os.environ["PATH"]}
    assert ray_task.run_node(argv, str(folder), env, str(log), {}, NODE_UMASK) == 0
    assert log.read_text().strip() == f"{NODE_UMASK:04o}"
    assert open_to_others(folder) == []


def test_an_environment_build_leaves_nothing_open_to_others(tmp_path, umask):
    """uv links packages from its cache with the cache's modes: the build closes them."""
    code = tmp_path / "node" / "code"
    make_folder(code, parents=True)
    make_folder(tmp_path / "node" / "logs")
    (code / "requirements.txt").write_text("")
    cache = tmp_path / "uv-cache"
    env = venvs.environment(tmp_path / "node")
    built = asyncio.run(venvs.build(env, tmp_path / "node" / "logs" / "env.log", str(cache)))
    assert built, (tmp_path / "node" / "logs" / "env.log").read_text()
    assert env.state == "ready"
    assert open_to_others(env.venv) == [] and open_to_others(tmp_path / "node" / "logs") == []


def test_the_doctor_says_nothing_of_a_closed_data_folder(tmp_path):
    data = tmp_path / "data"
    make_folder(data)
    folder = data / "pr_1"
    folder.mkdir(mode=0o755)
    (folder / "open.txt").write_text("x")
    check = admin._others_check(data)
    assert check.ok and not check.warning, check.detail
    assert list(admin.open_to_others(data)) == []


def test_the_doctor_names_what_others_can_reach_and_counts_the_rest(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for number in range(30):
        (data / f"f{number:02}").write_text("x")
        (data / f"f{number:02}").chmod(0o644)
    closed = data / "closed"
    closed.mkdir(mode=0o750)
    (closed / "inside").write_text("x")  # out of others' reach: not named
    (closed / "inside").chmod(0o644)
    secret = tmp_path / "elsewhere"
    secret.mkdir(mode=0o755)
    secret.chmod(0o755)
    (secret / "f").write_text("x")
    (secret / "f").chmod(0o644)
    (data / "link").symlink_to(secret)  # not followed, not named
    (data / "written").write_text("x")
    (data / "written").chmod(0o602)  # writable by others counts too
    check = admin._others_check(data)
    assert check.ok and check.warning
    lines = check.detail.splitlines()
    assert lines[0].startswith(f"32 path(s) in {data} that others can read, write or enter")
    assert f"chmod -R o-rwx {data}" in lines[0]
    named = lines[1:-1]
    assert len(named) == admin.OPEN_PATHS_SHOWN
    assert lines[-1] == "  ... and 12 more"
    reached = {path for path, _ in admin.open_to_others(data)}
    assert str(data) in reached and str(data / "written") in reached
    assert not {str(closed / "inside"), str(data / "link"), str(secret / "f")} & reached
    assert any(line == f"  drwxr-xr-x {data}" for line in named), named


def test_the_doctor_gives_a_shared_folder_the_init_data_dir_fix(tmp_path):
    data = tmp_path / "shared"
    data.mkdir()
    data.chmod(0o2775)
    check = admin._others_check(data)
    group = __import__("grp").getgrgid(data.stat().st_gid).gr_name
    assert f"sudo fusionpipe admin init-data-dir {data} --group {group}" in check.detail
    assert "setfacl -R -d -m o::---" in check.detail


def test_a_headless_example_run_under_umask_000_is_closed(database_url, tmp_path):
    """The whole product under the most permissive umask: ``fusionpipe example`` and
    ``fusionpipe run`` make the data folder, the nodes, their items, outputs, reports, logs and
    executed notebooks; nothing of it is in others' reach, and the doctor says so."""
    data = tmp_path / "made-by-fusionpipe"
    environment = {**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data)}

    def fusionpipe(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fusionpipe_server.cli", *args],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            umask=0,
        )

    for args in (("example",), ("run", "example")):
        done = fusionpipe(*args)
        assert done.returncode == 0, done.stdout + done.stderr
    assert len(list(data.glob("*/*/data/*/points.csv"))) == 3
    assert mode(data) & stat.S_IRWXO == 0
    assert list(admin.open_to_others(data)) == []
    doctor = fusionpipe("admin", "doctor")
    assert "ok      data folder access: closed to others" in doctor.stdout, doctor.stdout


def test_init_data_dir_changes_nothing_a_link_in_the_folder_points_to(tmp_path):
    """A member may leave a link to anything in the shared folder; root's init-data-dir must
    neither chmod, chown nor set ACLs through it."""
    tmp_path.chmod(0o755)
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o755)
    outside.chmod(0o755)
    (outside / "f").write_text("x")
    (outside / "f").chmod(0o644)
    data = tmp_path / "data"
    data.mkdir()
    (data / "folder-link").symlink_to(outside)
    (data / "file-link").symlink_to(outside / "f")
    admin.init_data_dir(data, "users")
    assert mode(outside) == 0o755 and mode(outside / "f") == 0o644
    assert outside.stat().st_gid == (outside / "f").stat().st_gid == os.getgid()
    listed = subprocess.run(
        ["getfacl", "-p", str(outside), str(outside / "f")], capture_output=True, text=True
    ).stdout
    assert "users" not in listed and "default:" not in listed, listed
    assert mode(data) == 0o2770
