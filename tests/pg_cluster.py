"""A throwaway PostgreSQL cluster of Debian's server, run by the postgres account on a Unix
socket only, with the settings a test gives (max_connections...) and its log in a file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def sh(*argv, user=None, **kwargs):
    command = [*(["runuser", "-u", user, "--"] if user else []), *map(str, argv)]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def postgres_bin(name):
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    assert found, "Debian's postgresql server is needed (make test installs it)"
    return found[-1]


class Cluster:
    """``auth``: how local connections are let in (``peer``: as one's own role; ``trust``: as
    any role, so root's tests may connect as ``postgres``). ``settings``: postgres ``-c``
    options. ``start`` and ``stop`` may be called again (an outage, a restart)."""

    def __init__(self, base: Path, auth: str = "peer", settings: dict[str, str] | None = None):
        self.data = base / "pgcluster"
        self.socket = base / "pgsocket"
        self.log = self.data / "log"
        self.settings = {"listen_addresses": "''", **(settings or {})}
        self.data.mkdir()
        self.socket.mkdir()
        shutil.chown(self.data, "postgres", "postgres")
        shutil.chown(self.socket, "postgres", "postgres")
        self.socket.chmod(0o755)
        sh(
            postgres_bin("initdb"),
            "-D",
            self.data,
            f"--auth-local={auth}",
            "--auth-host=reject",
            user="postgres",
        )
        self.start()
        self.dsn = f"host={self.socket} dbname=fusionpipe"
        sh(postgres_bin("createdb"), "-h", self.socket, "fusionpipe", user="postgres")

    def start(self) -> None:
        options = " ".join(f"-c {name}={value}" for name, value in self.settings.items())
        sh(
            postgres_bin("pg_ctl"),
            "-D",
            self.data,
            "-w",
            "-l",
            self.log,
            "-o",
            f"-k {self.socket} {options}",
            "start",
            user="postgres",
        )

    def stop(self) -> None:
        sh(postgres_bin("pg_ctl"), "-D", self.data, "-m", "fast", "stop", user="postgres")
