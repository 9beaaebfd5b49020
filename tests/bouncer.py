"""A real PgBouncer (Debian's /usr/sbin/pgbouncer) in front of a test cluster, for the tests of
fusionpipe behind a connection pooler."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
from jupyter_process import free_port

PGBOUNCER = Path("/usr/sbin/pgbouncer")


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
