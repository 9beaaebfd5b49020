"""The connection budget (#25): servers sharing one PostgreSQL stay within their share of its
max_connections under load, requests queue for a connection instead of failing, a server
started meanwhile comes up, and a server started while the database is down serves the lab,
answers 503 with Retry-After and connects by itself once the database is back."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from jupyter_process import TOKEN, JupyterProcess
from pg_cluster import Cluster

from fusionpipe_server.errors import Unavailable
from fusionpipe_server.store.database import (
    DEFAULT_POOL_SIZE,
    Database,
    check_schema,
    refused_for_slots,
)

SERVERS = 4
CLIENTS_PER_SERVER = 8
REQUESTS_PER_CLIENT = 12
# Every server's share (its pool and its LISTEN connection), for the servers under load, the
# late one, and one for this test's own look at pg_stat_activity, one to spare. Before #25 a
# server could take 11: these five would have needed 55.
MAX_CONNECTIONS = (SERVERS + 1) * (DEFAULT_POOL_SIZE + 1) + 2


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
    """(status, JSON body, headers) of one REST call; an error status is an answer too."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/fusionpipe/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), err.headers


def wait_http(port: int, path: str, timeout: float = 60) -> int:
    """Wait until jupyter_server answers ``path`` at all; its status."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/{path}", headers={"Authorization": f"token {TOKEN}"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as err:
            return err.code
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, f"no answer from port {port}"
            time.sleep(0.1)


def user_work(port: int, client: int) -> list[tuple[str, int]]:
    """One user's burst: reads and writes, as a busy panel sends them."""
    answers = []
    status, project, _ = call(port, "POST", "projects", {"tag": f"load-{port}-{client}"})
    answers.append(("create project", status))
    for i in range(REQUESTS_PER_CLIENT):
        if i % 3 == 0:
            status, _, _ = call(port, "POST", "pipelines", {"project_id": project["id"]})
            answers.append(("create pipeline", status))
        elif i % 3 == 1:
            status, _, _ = call(port, "GET", f"pipelines?project_id={project['id']}")
            answers.append(("list pipelines", status))
        else:
            status, _, _ = call(port, "GET", "projects")
            answers.append(("list projects", status))
    return answers


@pytest.fixture
def cluster():
    # Outside pytest's private temporary tree: the postgres account must reach its files.
    base = Path(tempfile.mkdtemp(prefix="fusionpipe-budget-"))
    base.chmod(0o755)
    try:
        cluster = Cluster(base, auth="trust", settings={"max_connections": str(MAX_CONNECTIONS)})
        cluster.dsn += " user=postgres"
        check_schema(cluster.dsn, migrate=True)
        yield cluster
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def servers(tmp_path, cluster):
    started: list[JupyterProcess] = []

    def start() -> JupyterProcess:
        root = tmp_path / f"server-{len(started)}"
        root.mkdir()
        server = JupyterProcess(root, env={"DATABASE_URL": cluster.dsn})
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def peak_connections(dsn: str, stop: threading.Event, peak: list[int]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.wait(0.05):
            (count,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            ).fetchone()
            peak[0] = max(peak[0], count)


def test_busy_servers_queue_within_their_budget_and_a_late_one_starts(cluster, servers):
    busy = [servers() for _ in range(SERVERS)]
    for server in busy:
        server.wait_ready()
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=peak_connections, args=(cluster.dsn, stop, peak))
    watcher.start()
    try:
        with ThreadPoolExecutor(SERVERS * CLIENTS_PER_SERVER) as pool:
            work = [
                pool.submit(user_work, server.port, client)
                for server in busy
                for client in range(CLIENTS_PER_SERVER)
            ]
            late = servers()  # started while the others are at their busiest
            late.wait_ready()
            late_status, _, _ = call(late.port, "POST", "projects", {"tag": "late"})
            answers = [answer for done in work for answer in done.result()]
    finally:
        stop.set()
        watcher.join()
    failed = [answer for answer in answers if not 200 <= answer[1] < 300]
    assert not failed, f"{len(failed)} of {len(answers)} requests failed: {failed[:10]}"
    assert len(answers) == SERVERS * CLIENTS_PER_SERVER * (REQUESTS_PER_CLIENT + 1)
    assert late_status == 201
    assert peak[0] <= (SERVERS + 1) * (DEFAULT_POOL_SIZE + 1) + 1, peak
    log = cluster.log.read_text()
    assert "too many clients" not in log and "connection slots are reserved" not in log


def test_a_server_started_while_the_database_is_down_serves_the_lab_then_connects(cluster, servers):
    cluster.stop()
    server = servers()
    assert wait_http(server.port, "lab") == 200
    status, body, headers = call(server.port, "GET", "projects")
    assert status == 503 and "database" in body["message"], body
    assert int(headers["Retry-After"]) >= 1
    assert "database busy or unreachable, retrying" in server.output
    assert server.process.poll() is None

    cluster.start()
    started = time.monotonic()
    while (answer := call(server.port, "GET", "projects"))[0] != 200:
        assert answer[0] == 503 and int(answer[2]["Retry-After"]) >= 1, answer[:2]
        assert time.monotonic() - started < 30, server.output
        time.sleep(0.2)
    assert call(server.port, "POST", "projects", {"tag": "after"})[0] == 201
    assert "fusionpipe: connected to the database" in server.output
    # Each 503 is one line of the log, no traceback: an outage is expected, not a crash.
    assert "answered 503: the fusionpipe database" in server.output
    assert "Uncaught exception" not in server.output


async def test_a_full_database_is_busy_not_lost(cluster):
    """Every slot taken (by other users' servers): a call that waits out its time for a
    connection answers busy (503) and leaves the pool alone; once a slot frees, it works."""
    db = Database(cluster.dsn, max_size=2, wait_seconds=0.5)
    await db.open()
    others: list[psycopg.Connection] = []
    try:
        while True:
            try:
                others.append(psycopg.connect(cluster.dsn))
            except psycopg.OperationalError as err:
                assert refused_for_slots(err), err
                break
        async with db.transaction() as conn:
            await conn.execute("SELECT 1")
            with pytest.raises(Unavailable, match="busy") as busy:
                async with db.transaction():
                    pass
            assert busy.value.retry_after >= 1
        assert db.available, "a busy database must not start the recovery"
        others.pop().close()
        # The pool tries again to grow, backing off (a second or two after a refusal).
        deadline = time.monotonic() + 15
        while True:
            try:
                async with db.transaction() as first, db.transaction() as second:
                    await first.execute("SELECT 1")
                    await second.execute("SELECT 1")
                break
            except Unavailable as err:
                assert "busy" in err.message and time.monotonic() < deadline
        assert db.available
    finally:
        for conn in others:
            conn.close()
        await db.close()
