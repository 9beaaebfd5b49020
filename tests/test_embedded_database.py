"""The zero-setup embedded PostgreSQL and the external-database path, with real server processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import create_database, drop_database
from jupyter_process import JupyterProcess

from fusionpipe_server.store.embedded import drop_dead_holders


def postgres_running(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def holders(pgdata: Path) -> list[int]:
    return json.loads((pgdata / ".handle_pids.json").read_text())


def test_embedded_database_survives_sigkill_and_stops_with_the_last_server(tmp_path):
    pgdata = tmp_path / "pgdata"
    args = (f"--FusionpipeApp.embedded_db_path={pgdata}",)

    first = JupyterProcess(tmp_path, *args)
    first.wait_ready()
    project = first.request("POST", "projects", {"tag": "kept"})
    assert postgres_running(pgdata)
    first.kill()  # SIGKILL: no chance to detach from the database
    assert first.process.pid in holders(pgdata)
    assert postgres_running(pgdata)

    second = JupyterProcess(tmp_path, *args)
    third = JupyterProcess(tmp_path, *args)
    second.wait_ready()
    third.wait_ready()
    assert first.process.pid not in holders(pgdata)
    listed = second.request("GET", "projects")["projects"]
    assert [p["id"] for p in listed] == [project["id"]]

    assert second.stop() == 0
    assert postgres_running(pgdata), "stopped while another server still used it"
    assert third.request("GET", "projects")["projects"] == listed
    assert third.stop() == 0
    assert not postgres_running(pgdata), "the last server left PostgreSQL running"


def test_dead_holders_are_dropped_and_live_ones_kept(tmp_path):
    (tmp_path / ".handle_pids.json").write_text(json.dumps([os.getpid(), 2**22 + 12345]))
    assert drop_dead_holders(tmp_path) == [2**22 + 12345]
    assert holders(tmp_path) == [os.getpid()]


@pytest.fixture
def empty_database(pg_admin_dsn):
    name = "fp_empty_" + os.urandom(4).hex()
    yield create_database(pg_admin_dsn, name)
    drop_database(pg_admin_dsn, name)


def test_external_database_on_an_old_schema_refuses_to_start_until_migrated(
    tmp_path, empty_database
):
    pgdata = tmp_path / "never-created"
    env = {"DATABASE_URL": empty_database}
    refused = JupyterProcess(tmp_path, f"--FusionpipeApp.embedded_db_path={pgdata}", env=env)
    assert refused.wait_exit() != 0
    assert "fusionpipe admin migrate" in refused.output
    assert "schema version 0" in refused.output

    migrate = subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", "admin", "migrate"],
        env={**os.environ, "DATABASE_URL": empty_database},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "migrated from version 0" in migrate.stdout

    server = JupyterProcess(tmp_path, f"--FusionpipeApp.embedded_db_path={pgdata}", env=env)
    server.wait_ready()
    server.request("POST", "projects", {"tag": "external"})
    assert server.stop() == 0
    assert not pgdata.exists(), "an embedded PostgreSQL was started despite DATABASE_URL"
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT tag FROM projects").fetchall() == [("external",)]


def test_migrate_is_idempotent(empty_database):
    command = [
        sys.executable,
        "-m",
        "fusionpipe_server.cli",
        "admin",
        "migrate",
        "--database-url",
        empty_database,
    ]
    subprocess.run(command, check=True, capture_output=True)
    again = subprocess.run(command, check=True, capture_output=True, text=True)
    assert "nothing to do" in again.stdout
