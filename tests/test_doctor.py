"""``fusionpipe admin doctor``: happy on a fresh single-user setup, and naming the fix when the
data folder cannot be used, the database cannot be reached or its schema is old."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from test_admin import fresh_database  # noqa: F401 (a fixture)

from fusionpipe_server.cli import admin
from fusionpipe_server.store import budget


def doctor(*args, cwd, env=None):
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FUSIONPIPE_DATA_PATH")
    }
    return subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", "admin", "doctor", *args],
        env={**environment, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_fresh_default_setup_is_fine(tmp_path):
    """A new user: no database, no data folder yet; the server makes both on its first start."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    result = doctor(cwd=work, env={"HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok      database: embedded PostgreSQL in" in result.stdout
    assert f"ok      data folder: {work / 'fusionpipe-data'} (the server creates it" in (
        result.stdout
    )
    assert not (work / "fusionpipe-data").exists() and os.listdir(home) == []


def test_a_data_folder_that_cannot_be_created_is_a_problem(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data = blocker / "fusionpipe-data"
    result = doctor(cwd=tmp_path, env={"HOME": str(tmp_path), "FUSIONPIPE_DATA_PATH": str(data)})
    assert result.returncode == 1
    assert (
        f"PROBLEM data folder: {data} cannot be created: {blocker} is not a folder: "
        "choose another with FUSIONPIPE_DATA_PATH"
    ) in result.stdout


def data_folder_report_as_nobody(data: Path, embedded: Path) -> str:
    """The doctor's data folder check as the user nobody (root may write anywhere), in a forked
    child: the interpreter under /root cannot be started anew as nobody."""
    nobody = pwd.getpwnam("nobody")
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            checks = {c.name: c for c in admin.doctor(None, data, embedded_path=embedded)}
            report = f"{checks['data folder'].ok} {checks['data folder'].detail}"
        except BaseException as err:
            report = repr(err)
        os.write(writer, report.encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    return os.read(reader, 4096).decode()


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder of root's that others may enter (pytest's own are closed: mode 700)."""
    folder = Path(tempfile.mkdtemp(prefix="fusionpipe-doctor-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_data_folder_the_user_cannot_write_is_a_problem(open_folder):
    """A folder of root's, mode 755."""
    data = open_folder / "owned-by-root"
    data.mkdir(mode=0o755)
    report = data_folder_report_as_nobody(data, open_folder / "pg")
    assert report.startswith(f"False {data} is not writable by you: "), report
    assert "FUSIONPIPE_DATA_PATH" in report


def test_a_folder_the_user_cannot_reach_is_a_problem_not_a_crash(tmp_path):
    """Inside pytest's closed folder, nobody may not even look."""
    data = tmp_path / "data"
    report = data_folder_report_as_nobody(data, tmp_path / "pg")
    assert report.startswith(f"False {data} cannot be reached by you: Permission denied"), report


def test_an_unreachable_database_is_a_problem(tmp_path):
    dsn = f"host={tmp_path / 'no-server-here'} dbname=fusionpipe"
    result = doctor("--database-url", dsn, "--data-path", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "PROBLEM database: cannot connect" in result.stdout
    assert "check DATABASE_URL" in result.stdout


def test_an_old_schema_names_the_migration(fresh_database, tmp_path):  # noqa: F811
    _, dsn, _ = fresh_database
    stale = doctor("--database-url", dsn, "--data-path", str(tmp_path), cwd=tmp_path)
    assert stale.returncode == 1
    assert "PROBLEM database: schema version 0" in stale.stdout
    assert "fusionpipe admin migrate" in stale.stdout
    subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", "admin", "migrate", "--database-url", dsn],
        check=True,
        capture_output=True,
    )
    healthy = doctor("--database-url", dsn, "--data-path", str(tmp_path), cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout
    assert "ok      uv: found" in healthy.stdout


def test_what_others_can_read_in_the_data_folder_is_a_warning(tmp_path):
    """Named with its mode and the commands that close it; no failure (exit status 0)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "code.py").write_text("secret")
    (data / "code.py").chmod(0o644)
    result = doctor("--data-path", str(data), cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"WARNING data folder access: 2 path(s) in {data} that others can read, write or "
        f"enter; close them with: chmod -R o-rwx {data}"
    ) in result.stdout
    assert f"\n  -rw-r--r-- {data / 'code.py'}\n" in result.stdout
    data.chmod(0o750)
    closed = doctor("--data-path", str(data), cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert "ok      data folder access: closed to others" in closed.stdout, closed.stdout


def test_max_connections_too_low_for_the_users_is_named_with_the_setting(database_url, tmp_path):
    """30 users who own projects, each server holding its pool and one LISTEN connection:
    PostgreSQL's default 100 is too few for pools of 3, enough for pools of 1."""
    with psycopg.connect(database_url) as conn:
        for user in range(30):
            conn.execute(
                "INSERT INTO projects (id, tag, owner) VALUES (%s, 'p', %s)",
                (f"pr_{user}", f"user{user}"),
            )
        (max_connections,) = conn.execute("SHOW max_connections").fetchone()
        (reserved,) = conn.execute("SHOW superuser_reserved_connections").fetchone()
    assert max_connections == "100"
    args = ("--database-url", database_url, "--data-path", str(tmp_path))
    needed = 30 * (3 + 1) + int(reserved) + budget.SPARE
    low = doctor(*args, cwd=tmp_path)
    assert low.returncode == 0, low.stdout + low.stderr
    assert (
        "WARNING connections: max_connections 100 is too low for 30 user(s) x (pool 3 + 1 for "
        f"live events) + {reserved} reserved + {budget.SPARE} spare = {needed}: set "
        f"max_connections = {needed}"
    ) in low.stdout
    small = doctor(*args, cwd=tmp_path, env={"FUSIONPIPE_DB_POOL_SIZE": "1"})
    assert "ok      connections: max_connections 100 covers 30 user(s) x (pool 1 + 1" in (
        small.stdout
    )
