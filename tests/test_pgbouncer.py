"""fusionpipe behind a real PgBouncer in transaction mode (#25), in front of a PostgreSQL with
few connections: several servers of two users share them under concurrent reads, writes and
runs, with no failed request; a server started meanwhile answers; live events, on a direct
connection each, reach every server; row-level security still knows each user's role (and
test_rights' flow of a server on a user's role passes through PgBouncer too). And
``fusionpipe admin doctor`` tells PgBouncer's three modes apart and flags LISTEN through it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bouncer import PgBouncer
from jupyter_process import TOKEN, JupyterProcess
from test_jupyterhub import Cluster
from test_rights import alice_on_her_role
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect
from users import HEADER

from fusionpipe_server.cli import admin
from fusionpipe_server.cli.check import Check
from fusionpipe_server.store.database import Database

TESTS = Path(__file__).resolve().parent
OWNER_PASSWORD = "owner-secret"
USERS = {"alice": "alice-secret", "bob": "bob-secret"}
# Nine connections for the users' roles (three stay reserved for superusers). Five servers
# each holding a pool of up to ten would need far more; through PgBouncer they need three
# (max_db_connections) plus one LISTEN connection each.
MAX_CONNECTIONS = 12
POOLED = 3
# Turns of each of three load threads per server, six requests a turn.
ROUNDS = 12


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    assert os.geteuid() == 0, "the cluster runs as the postgres account: the test runs as root"
    base = Path(tempfile.mkdtemp(prefix="fusionpipe-bouncer-"))
    base.chmod(0o755)  # the postgres account reaches the cluster's socket and PgBouncer's files
    cluster = Cluster(
        base, password=OWNER_PASSWORD, options=f"-c max_connections={MAX_CONNECTIONS}"
    )
    try:
        with psycopg.connect(cluster_dsn(cluster, "postgres"), autocommit=True) as conn:
            admin.init_db(conn)
            for name, password in USERS.items():
                admin.add_user(conn, name, password=password)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def cluster_dsn(cluster: Cluster, user: str) -> str:
    """``user`` straight to PostgreSQL, by password."""
    password = OWNER_PASSWORD if user == "postgres" else USERS[user]
    return f"{cluster.dsn} user={user} password={password}"


@pytest.fixture
def bouncer(cluster: Cluster) -> Iterator[Callable[..., PgBouncer]]:
    """Starts PgBouncers in front of ``cluster`` (``mode``...); all stop with the test."""
    started: list[PgBouncer] = []

    def start(mode: str = "transaction", **options: Any) -> PgBouncer:
        folder = cluster.data.parent / f"pgbouncer-{len(started)}-{os.getpid()}"
        started.append(PgBouncer(folder, cluster.socket, USERS, mode=mode, **options))
        started[-1].wait_ready("alice", USERS["alice"])
        return started[-1]

    try:
        yield start
    finally:
        for pooler in started:
            pooler.stop()
            shutil.rmtree(pooler.log_path.parent, ignore_errors=True)


class Server:
    """A fusionpipe server of ``user`` on the pooled URL, its events on the direct one."""

    def __init__(self, root: Path, user: str, pooler: PgBouncer, cluster: Cluster) -> None:
        self.user = user
        root.mkdir()
        self.process = JupyterProcess(
            root,
            f"--FusionpipeApp.database_url={pooler.dsn(user, USERS[user])}",
            f"--FusionpipeApp.events_database_url={cluster_dsn(cluster, user)}",
            f"--FusionpipeApp.data_path={cluster.data.parent / 'data'}",
            "--FusionpipeApp.runs_outlive_server=False",
            "--ServerApp.identity_provider_class=users.SeveralUsers",
            env={"PYTHONPATH": str(TESTS)},
        )

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.process.port}/fusionpipe/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {TOKEN}", HEADER: self.user},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def api(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        assert status < 300, (method, path, status, answer)
        return answer


async def statuses_seen(
    server: Server, node_id: str, until: str, connected: asyncio.Event
) -> list[str]:
    request = HTTPRequest(
        f"ws://127.0.0.1:{server.process.port}/fusionpipe/api/events",
        headers={"Authorization": f"token {TOKEN}"},
    )
    socket = await websocket_connect(request)
    connected.set()
    seen = []
    try:
        while True:
            message = await asyncio.wait_for(socket.read_message(), 120)
            assert message is not None, "the event stream closed"
            event = json.loads(message)
            if event["event"] == "node.status" and event.get("node_id") == node_id:
                seen.append(event["status"])
                if event["status"] == until:
                    return seen
    finally:
        socket.close()


def run_seen_elsewhere(runner: Server, watcher: Server, pipeline_id: str, node_id: str) -> Any:
    """Runs ``node_id`` on ``runner``; returns the statuses ``watcher``'s event stream showed."""

    async def watch() -> list[str]:
        connected = asyncio.Event()
        seen = asyncio.ensure_future(statuses_seen(watcher, node_id, "completed", connected))
        await asyncio.wait_for(connected.wait(), 60)
        body = {"node_ids": [node_id]}
        await asyncio.to_thread(runner.api, "POST", f"pipelines/{pipeline_id}/runs", body)
        return await seen

    return asyncio.run(watch())


def load(server: Server, project_id: str, worker: str, rounds: int, failures: list) -> None:
    """Reads and writes as a user clicking around; every answer must be a success."""

    def call(method: str, path: str, body: Any = None) -> Any:
        status, answer = server.call(method, path, body)
        if status >= 300:
            failures.append((worker, method, path, status, answer))
        return answer

    for turn in range(rounds):
        made = call("POST", "pipelines", {"project_id": project_id, "tag": f"load-{worker}-{turn}"})
        if "id" not in made:
            return
        call("POST", f"pipelines/{made['id']}/nodes", {"tag": "n"})
        call("PATCH", f"pipelines/{made['id']}", {"notes": f"turn {turn}"})
        call("GET", f"pipelines/{made['id']}")
        call("GET", "projects")
        call("GET", f"pipelines?project_id={project_id}")


def test_servers_share_few_connections_through_pgbouncer(cluster, bouncer, tmp_path):
    pooler = bouncer("transaction", pool_size=2, max_db_connections=POOLED)
    roots = cluster.data.parent / f"servers-{os.getpid()}"
    roots.mkdir()
    users = ["alice", "bob", "alice", "bob"]
    servers = [Server(roots / str(i), user, pooler, cluster) for i, user in enumerate(users)]
    late: Server | None = None
    log = cluster.data / "log"
    logged_before = log.stat().st_size
    try:
        for server in servers:
            server.process.wait_ready()
            # It found PgBouncer's mode by itself, so it prepares no statements.
            assert "reached through a pooler in transaction mode" in server.process.output
        alice, bob = servers[0], servers[1]
        project = alice.api("POST", "projects", {"tag": "shared"})
        body = {"project_id": project["id"], "tag": "runs"}
        pipeline = alice.api("POST", "pipelines", body)
        first = alice.api("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "first"})

        failures: list = []
        workers = [
            threading.Thread(target=load, args=(server, project["id"], f"{i}{j}", ROUNDS, failures))
            for i, server in enumerate(servers)
            for j in range(3)
        ]
        for worker in workers:
            worker.start()
        try:
            # Alice's run, seen live by bob's server: NOTIFY went through PgBouncer in the
            # run's transactions, LISTEN is bob's direct connection.
            seen = run_seen_elsewhere(alice, bob, pipeline["id"], first["id"])
            assert seen == ["running", "completed"]
            # A server started under load answers, and its run is seen elsewhere too.
            late = Server(roots / "late", "alice", pooler, cluster)
            late.process.wait_ready()
            assert project["id"] in [p["id"] for p in late.api("GET", "projects")["projects"]]
            second = late.api("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "second"})
            seen = run_seen_elsewhere(late, servers[3], pipeline["id"], second["id"])
            assert seen == ["running", "completed"]
        finally:
            for worker in workers:
                worker.join(300)
        assert failures == []
        made = alice.api("GET", f"pipelines?project_id={project['id']}")["pipelines"]
        assert len(made) == 1 + len(workers) * ROUNDS

        # Each server asks as its user's own role through PgBouncer's per-user pools, so
        # PostgreSQL's row-level security still refuses bob what is alice's.
        status, answer = bob.call("DELETE", f"pipelines/{pipeline['id']}")
        assert status == 403 and "only alice" in answer["message"]
        with psycopg.connect(pooler.dsn("bob", USERS["bob"]), autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("bob",)
            deleted = conn.execute("DELETE FROM pipelines WHERE id = %s", (pipeline["id"],))
            assert deleted.rowcount == 0

        # The command line on the same two URLs: `fusionpipe run` through PgBouncer.
        third = alice.api("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "third"})
        environment = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
        done = subprocess.run(
            [sys.executable, "-m", "fusionpipe_server.cli", "run", pipeline["id"]],
            env={
                **environment,
                "DATABASE_URL": pooler.dsn("alice", USERS["alice"]),
                "FUSIONPIPE_EVENTS_DATABASE_URL": cluster_dsn(cluster, "alice"),
                "FUSIONPIPE_DATA_PATH": str(cluster.data.parent / "data"),
            },
            cwd=roots,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert alice.api("GET", f"nodes/{third['id']}")["status"] == "completed"

        # No client was refused ("too many clients") or failed in any other way.
        with log.open() as text:
            text.seek(logged_before)
            fatal = [line for line in text if "FATAL" in line]
        assert fatal == []
    finally:
        for server in [*servers, *([late] if late else [])]:
            server.process.stop()


async def test_the_services_on_a_users_role_through_pgbouncer(cluster, bouncer, tmp_path):
    """test_rights' flow of a server on alice's role, through PgBouncer: her rights, the
    database's last word where the server's admins are stale, the trash."""
    pooler = bouncer("transaction")
    db = Database(pooler.dsn("alice", USERS["alice"]), max_size=2, shared_backends=True)
    await db.open()
    try:
        await alice_on_her_role(db, tmp_path)
    finally:
        await db.close()


def doctor_says(dsn: str, events_dsn: str | None = None) -> dict[str, Check]:
    # A data folder of its own: the doctor walks what others can reach in it.
    with tempfile.TemporaryDirectory() as data:
        checks = admin.doctor(dsn, Path(data), events_dsn=events_dsn)
    return {check.name: check for check in checks}


@pytest.mark.parametrize("mode", ["session", "transaction", "statement"])
def test_the_doctor_tells_the_pooling_mode(cluster, bouncer, mode):
    pooler = bouncer(mode, pool_size=3)
    said = doctor_says(pooler.dsn("alice", USERS["alice"]), cluster_dsn(cluster, "alice"))
    pooling, events = said["connection pooling"], said["live events"]
    assert (events.ok, events.detail) == (
        True,
        "LISTEN on events_database_url, reaching PostgreSQL directly",
    )
    if mode == "transaction":
        assert (pooling.ok, pooling.warning) == (True, False)
        assert "transaction mode (PgBouncer): servers share" in pooling.detail
    elif mode == "session":
        assert (pooling.ok, pooling.warning) == (True, True)
        assert "session mode: it works, but" in pooling.detail
        assert "set pool_mode = transaction" in pooling.detail
    else:
        assert not pooling.ok
        assert "statement mode, which refuses the transactions" in pooling.detail
    # The schema was read all the same (in statement mode too).
    assert said["database"].ok, said["database"].detail


def test_the_doctor_refuses_events_through_pgbouncer(cluster, bouncer, tmp_path):
    """From the command line, as an admin runs it: without events_database_url the LISTEN
    connection would go through PgBouncer; with it (flag or environment) all is well."""
    pooler = bouncer("transaction")
    pooled, direct = pooler.dsn("alice", USERS["alice"]), cluster_dsn(cluster, "alice")

    def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "fusionpipe_server.cli", "admin", "doctor"]
        environment = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
        return subprocess.run(
            [*command, "--database-url", pooled, "--data-path", str(tmp_path), *args],
            env={**environment, "HOME": str(tmp_path), **(env or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    through = doctor()
    assert through.returncode == 1, through.stdout + through.stderr
    assert (
        "PROBLEM live events: database_url (no events_database_url set) goes through a pooler "
        "in transaction mode, where LISTEN does not work"
    ) in through.stdout
    assert "set events_database_url ($FUSIONPIPE_EVENTS_DATABASE_URL)" in through.stdout
    for fixed in (
        doctor("--events-database-url", direct),
        doctor(env={"FUSIONPIPE_EVENTS_DATABASE_URL": direct}),
    ):
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert "ok      connection pooling: database_url goes through a pooler in transaction" in (
            fixed.stdout
        )
        direct_events = "ok      live events: LISTEN on events_database_url, reaching PostgreSQL"
        assert f"{direct_events} directly" in fixed.stdout


def test_the_doctor_finds_no_pooler_on_a_direct_url(cluster):
    said = doctor_says(cluster_dsn(cluster, "alice"))
    assert said["connection pooling"].detail == "none: database_url leads to PostgreSQL itself"
    assert said["live events"].detail == (
        "LISTEN on database_url (no events_database_url set), reaching PostgreSQL directly"
    )
