"""A real PgBouncer (Debian's /usr/sbin/pgbouncer) in front of a test cluster (Debian's
PostgreSQL, password authentication, few connections), for the tests of fusionpipe behind a
connection pooler: the fixtures ``cluster`` and ``bouncer``, imported by those tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from jupyter_process import free_port
from pg_cluster import Cluster

from fusionpipe_server.cli import admin

PGBOUNCER = Path("/usr/sbin/pgbouncer")
USERS = {"alice": "alice-secret", "bob": "bob-secret"}
# Nine connections for the users' roles (three stay reserved for superusers). Five servers
# each holding a pool of up to ten would need far more; through PgBouncer they need a few
# (max_db_connections) plus one LISTEN connection each.
MAX_CONNECTIONS = 12


class PgBouncer:
    """Pools connections to database ``fusionpipe`` on the cluster at ``socket`` for ``users``
    (name -> password), listening on 127.0.0.1. Runs in the foreground as the postgres account
    (``-u``: it refuses to run as root) and is stopped by its pid."""

    def __init__(
        self,
        folder: Path,
        socket: Path,
        users: dict[str, str],
        *,
        mode: str = "transaction",
        pool_size: int = 2,
        max_db_connections: int = 0,
    ) -> None:
        assert PGBOUNCER.exists(), "PgBouncer is needed (scripts/install-system-deps.sh)"
        folder.mkdir()
        self.port = free_port()
        self.log_path = folder / "pgbouncer.log"
        userlist = folder / "userlist.txt"
        userlist.write_text("".join(f'"{name}" "{secret}"\n' for name, secret in users.items()))
        config = folder / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"fusionpipe = host={socket} dbname=fusionpipe\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = scram-sha-256\n"
            f"auth_file = {userlist}\n"
            f"pool_mode = {mode}\n"
            f"default_pool_size = {pool_size}\n"
            f"max_db_connections = {max_db_connections}\n"
            "max_client_conn = 2000\n"
        )
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [PGBOUNCER, "-u", "postgres", config], stdout=self.log, stderr=subprocess.STDOUT
        )

    def dsn(self, user: str, password: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=fusionpipe user={user} password={password}"

    def wait_ready(self, user: str, password: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                # Autocommit: statement pooling refuses transactions.
                dsn = self.dsn(user, password)
                with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, self.log_path.read_text()
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(30)
        finally:
            self.log.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    assert os.geteuid() == 0, "the cluster runs as the postgres account: the test runs as root"
    base = Path(tempfile.mkdtemp(prefix="fusionpipe-bouncer-"))
    base.chmod(0o755)  # the postgres account reaches the cluster's socket and PgBouncer's files
    # Trust on the cluster's socket: PgBouncer logs in as each user's role, and the test as
    # the postgres role; PgBouncer itself asks the servers for passwords.
    cluster = Cluster(base, auth="trust", settings={"max_connections": str(MAX_CONNECTIONS)})
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
    """``user`` straight to PostgreSQL."""
    return f"{cluster.dsn} user={user}"


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
