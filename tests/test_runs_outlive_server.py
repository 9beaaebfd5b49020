"""Runs that outlive their Jupyter server, with real server processes: a server SIGKILLed or
stopped while a node sleeps leaves the node running, and the next server takes the run back
and finishes it; a node that died meanwhile ends ``failed`` with the reason in its log."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from jupyter_process import JupyterProcess
from test_runs_api import running

SLEEPER = """
import time
from pathlib import Path
time.sleep({seconds})
Path("../data/done.txt").write_text("slept")
"""

# A node that runs until the test lets it end (a file appears): a node that slept a fixed time
# could end before the second server, starting on a busy machine, had seen it running.
GATED = """
import time
from pathlib import Path
go = Path({go!r})
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.05)
Path("../data/done.txt").write_text("slept")
"""


@pytest.fixture
def start_server(tmp_path, database_url, data_path):
    started = []

    def start(*args):
        server = JupyterProcess(
            tmp_path,
            f"--FusionpipeApp.database_url={database_url}",
            f"--FusionpipeApp.data_path={data_path}",
            *args,
        )
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


def start_sleeping_run(server, seconds=None, code=None):
    project = server.request("POST", "projects", {"tag": "long"})
    pipeline = server.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    node = server.request("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "sleeper"})
    code = code if code is not None else SLEEPER.format(seconds=seconds)
    (Path(node["folder"]) / "code" / "main.py").write_text(code)
    run = server.request("POST", f"pipelines/{pipeline['id']}/runs", {})
    return node, run


def node_pid(database_url, run_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT pid FROM run_nodes WHERE run_id = %s AND status = 'running'", (run_id,)
            ).fetchone()
        if row and row[0]:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("the node never started")


def wait_run(server, run_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = server.request("GET", f"runs/{run_id}")
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {run}")


@pytest.mark.parametrize("how", ["sigkill", "stop"])
def test_a_run_goes_on_without_its_server_and_is_taken_back(
    start_server, database_url, tmp_path, how
):
    go = tmp_path / "go"
    first = start_server()
    node, run = start_sleeping_run(first, code=GATED.format(go=str(go)))
    pid = node_pid(database_url, run["id"])
    if how == "sigkill":
        first.kill()
    else:
        assert first.stop() == 0
    assert running(pid), "the node outlived its server"
    second = start_server()
    assert second.request("GET", f"nodes/{node['id']}")["status"] == "running"
    go.touch()
    finished = wait_run(second, run["id"], timeout=60)
    assert finished["status"] == "completed", finished
    (entry,) = finished["nodes"]
    assert entry["status"] == "completed" and entry["exit_code"] == 0
    assert (Path(node["folder"]) / "data" / "done.txt").read_text() == "slept"
    log = second.request("GET", f"nodes/{node['id']}/log")["content"]
    assert "taken back by the server" in log and "fusionpipe: completed" in log
    node_now = second.request("GET", f"nodes/{node['id']}")
    assert node_now["status"] == "completed" and node_now["stale_reasons"] == []


def test_a_node_that_died_while_no_server_watched_fails_with_the_reason(start_server, database_url):
    first = start_server()
    node, run = start_sleeping_run(first, seconds=60)
    pid = node_pid(database_url, run["id"])
    first.kill()
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = start_server()
    ready = time.monotonic()
    finished = wait_run(second, run["id"], timeout=5)
    assert time.monotonic() - ready < 5
    (entry,) = finished["nodes"]
    assert entry["status"] == "failed"
    assert "no exit code" in entry["reason"]
    assert "no exit code" in second.request("GET", f"nodes/{node['id']}/log")["content"]
    assert second.request("GET", f"nodes/{node['id']}")["status"] == "failed"


def test_a_busy_server_reports_activity_to_the_culler(start_server):
    server = start_server("--FusionpipeApp.keep_active_while_running=True")
    _, run = start_sleeping_run(server, seconds=15)
    # From here on only /api/status is asked, which counts as no activity of its own.
    started = datetime.now(timezone.utc)
    deadline = time.monotonic() + 14
    while time.monotonic() < deadline:
        status = server.status()
        if datetime.fromisoformat(status["last_activity"].replace("Z", "+00:00")) > started:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the server never said it was active while running")
    wait_run(server, run["id"], timeout=60)


def test_a_server_whose_lease_lapsed_writes_nothing_over_the_new_holder(start_server, database_url):
    first = start_server("--FusionpipeApp.run_lease_seconds=3")
    node, run = start_sleeping_run(first, seconds=6)
    pid = node_pid(database_url, run["id"])
    # Frozen, as a server cut off from its database would be: it renews nothing.
    os.kill(first.process.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with psycopg.connect(database_url) as conn:
                (lapsed,) = conn.execute(
                    "SELECT lease_until < now() FROM runs WHERE id = %s", (run["id"],)
                ).fetchone()
            if lapsed:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the lease never lapsed")
        second = start_server("--FusionpipeApp.run_lease_seconds=3")
        finished = wait_run(second, run["id"], timeout=60)
        assert not running(pid)
    finally:
        os.kill(first.process.pid, signal.SIGCONT)
    assert finished["status"] == "completed", finished
    with psycopg.connect(database_url) as conn:
        recorded = conn.execute(
            "SELECT r.executor, rn.finished_at, rn.exit_code FROM runs r "
            "JOIN run_nodes rn ON rn.run_id = r.id WHERE r.id = %s",
            (run["id"],),
        ).fetchone()
    assert recorded[0] == f"{recorded[0].split(':')[0]}:{second.process.pid}"
    # The first server wakes up, finds the run is no longer its own and leaves it.
    deadline = time.monotonic() + 30
    while f"run {run['id']} left to" not in first.output and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"run {run['id']} left to" in first.output
    with psycopg.connect(database_url) as conn:
        after = conn.execute(
            "SELECT r.executor, rn.finished_at, rn.exit_code FROM runs r "
            "JOIN run_nodes rn ON rn.run_id = r.id WHERE r.id = %s",
            (run["id"],),
        ).fetchone()
    assert after == recorded, "the first server wrote over the new holder's record"
    assert first.request("GET", f"runs/{run['id']}")["status"] == "completed"
    assert first.request("GET", f"nodes/{node['id']}")["status"] == "completed"


def test_a_taken_back_node_keeps_its_time_limit_from_its_start(start_server, database_url):
    first = start_server()
    project = first.request("POST", "projects", {"tag": "limited"})
    pipeline = first.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    node = first.request("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "sleeper"})
    first.request("PUT", f"nodes/{node['id']}/parameters", {"content": "timeout: 4s\n"})
    (Path(node["folder"]) / "code" / "main.py").write_text(SLEEPER.format(seconds=120))
    run = first.request("POST", f"pipelines/{pipeline['id']}/runs", {})
    pid = node_pid(database_url, run["id"])
    first.kill()
    # The limit passes while no server watches the node.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            (spent,) = conn.execute(
                "SELECT extract(epoch FROM now() - started_at) FROM run_node_attempts "
                "WHERE run_id = %s",
                (run["id"],),
            ).fetchone()
        if spent > 4.5:
            break
        time.sleep(0.1)
    second = start_server()
    ready = time.monotonic()
    finished = wait_run(second, run["id"], timeout=60)
    assert time.monotonic() - ready < 3, "the limit counts from the node's start, not the takeover"
    (entry,) = finished["nodes"]
    assert (entry["status"], entry["reason"]) == ("failed", "timed out after 4s")
    deadline = time.monotonic() + 5
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pid), "the node outlived its time limit"
