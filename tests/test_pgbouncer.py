"""fusionpipe behind a real PgBouncer in transaction mode (#25), in front of a PostgreSQL with
few connections: several servers of two users share them under concurrent reads, writes and
runs, with no failed request; a server started meanwhile answers; live events, on a direct
connection each, reach every server; row-level security still knows each user's role (and
test_rights' flow of a server on a user's role passes through PgBouncer too)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from bouncer import USERS, PgBouncer, bouncer, cluster, cluster_dsn  # noqa: F401 (fixtures)
from jupyter_process import TOKEN, JupyterProcess
from pg_cluster import Cluster
from test_rights import alice_on_her_role
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect
from users import HEADER

from fusionpipe_server.store.database import Database

TESTS = Path(__file__).resolve().parent
# PgBouncer's max_db_connections: with one LISTEN connection per server, five servers need
# eight of the cluster's nine.
POOLED = 3
# Turns of each of three load threads per server, six requests a turn.
ROUNDS = 12


class Server:
    """A fusionpipe server of ``user`` on the pooled URL, its events on the direct one."""

    def __init__(self, root: Path, user: str, pooler: PgBouncer, postgres: Cluster) -> None:
        self.user = user
        root.mkdir()
        self.process = JupyterProcess(
            root,
            f"--FusionpipeApp.database_url={pooler.dsn(user, USERS[user])}",
            f"--FusionpipeApp.events_database_url={cluster_dsn(postgres, user)}",
            f"--FusionpipeApp.data_path={postgres.data.parent / 'data'}",
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


def test_servers_share_few_connections_through_pgbouncer(cluster, bouncer, tmp_path):  # noqa: F811
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


async def test_the_services_on_a_users_role_through_pgbouncer(cluster, bouncer, tmp_path):  # noqa: F811
    """test_rights' flow of a server on alice's role, through PgBouncer: her rights, the
    database's last word where the server's admins are stale, the trash."""
    pooler = bouncer("transaction")
    db = Database(pooler.dsn("alice", USERS["alice"]), max_size=2, prepare_statements=False)
    await db.open()
    try:
        await alice_on_her_role(db, tmp_path)
    finally:
        await db.close()
