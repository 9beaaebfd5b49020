"""A real two-node Ray cluster on loopback, started with ``ray start`` as separate processes.

Each node runs in a process group of its own, ended by its id (``ray stop`` would end every
Ray of the machine). The cluster has its own token, temp dirs and HOME, so it shares nothing
with another Ray on the machine and a client without its token is refused.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from jupyter_process import free_port

LOOPBACK = "127.0.0.1"
# Ray replaces a loopback address given to `ray start` with the machine's network address
# (services.resolve_ip_for_localhost), so that other machines could reach the node; a node
# bound to loopback then is unreachable by that address. Tests may only talk over loopback:
# the nodes are Ray's own `ray start`, with that replacement turned off.
RAY_START_ON_LOOPBACK = (
    "import sys\n"
    "from ray._private import services\n"
    "services.resolve_ip_for_localhost = str\n"
    "from ray.scripts.scripts import main\n"
    "sys.argv[0] = 'ray'\n"
    "sys.exit(main())\n"
)
# A driver (the fusionpipe server) keeps a loopback cluster address as given with this:
# otherwise Ray replaces it with the machine's network address too.
# How long the nodes get to stop on SIGTERM before SIGKILL.
STOP_GRACE_SECONDS = 2.0
CLIENT_ON_LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# A package a worker must not need: importing it there fails.
_NOT_ON_WORKERS = 'raise ImportError("{name} is not installed on the Ray workers")\n'

_LIST_NODES = """
import json, sys, time
import ray
ray.init(address=sys.argv[1], log_to_driver=False)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    nodes = [n for n in ray.nodes() if n["Alive"]]
    if len(nodes) >= int(sys.argv[2]):
        break
    time.sleep(0.2)
print(json.dumps([{"ip": n["NodeManagerAddress"], "alive": n["Alive"]} for n in ray.nodes()]))
"""


def other_python() -> str:
    """This virtual environment's Python by another name than the server's: proof, when node
    code reports it, that the node ran on the worker's interpreter and not the server's path."""
    for name in ("python3", "python3.11", "python"):
        candidate = Path(sys.executable).with_name(name)
        if candidate.exists() and str(candidate) != sys.executable:
            return str(candidate)
    raise AssertionError("no second name for this Python")


class RayCluster:
    """A head and a second node joining it, on 127.0.0.1, with token authentication."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        self.python = other_python()
        self.token_path = root / "ray-token"
        self.token_path.write_text(secrets.token_hex(32))
        home = root / "ray-home"
        home.mkdir()
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("RAY_") and name != "PYTHONPATH"
        }
        self.env.update(
            HOME=str(home),
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN_PATH=str(self.token_path),
            RAY_USAGE_STATS_ENABLED="0",
            PYTHONPATH=str(self._without_fusionpipe()),
        )
        # Ray's sockets live in its temp dir, and a socket's path may not exceed 107 bytes:
        # a test's tmp_path is too deep for that.
        self.sockets = Path(tempfile.mkdtemp(prefix="fp-ray-"))
        self.processes: list[subprocess.Popen[bytes]] = []

    def _without_fusionpipe(self) -> Path:
        """A folder that, first on the workers' path, hides fusionpipe's packages from them."""
        folder = self.root / "not-on-workers"
        for name in ("fusionpipe_server", "fusionpipe", "fp_user_utils"):
            (folder / name).mkdir(parents=True)
            (folder / name / "__init__.py").write_text(_NOT_ON_WORKERS.format(name=name))
        return folder

    def temp_dir(self, name: str) -> Path:
        return self.sockets / name

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"ray-{name}.log").open("wb")
        process = subprocess.Popen(
            [
                self.python,
                "-c",
                RAY_START_ON_LOOPBACK,
                "start",
                "--block",
                f"--node-ip-address={LOOPBACK}",
                f"--temp-dir={self.temp_dir(name)}",
                "--num-cpus=1",
                "--disable-usage-stats",
                *args,
            ],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: stop() ends the node and every process it started.
            start_new_session=True,
        )
        self.processes.append(process)
        self._wait_started(name, process)
        return process

    def _wait_started(self, name: str, process: subprocess.Popen[bytes], timeout: float = 60):
        log = self.root / f"ray-{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Ray runtime started" in log.read_text(errors="replace"):
                return
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the Ray {name} did not start:\n{log.read_text(errors='replace')}")

    def start(self) -> None:
        self._start(
            "head",
            "--head",
            f"--port={self.port}",
            "--include-dashboard=false",
            f"--dashboard-host={LOOPBACK}",
        )
        self._start("worker", f"--address={self.address}")

    def nodes(self, expected: int = 2) -> list[dict[str, Any]]:
        """The nodes Ray reports, once ``expected`` are alive (or after a minute)."""
        result = subprocess.run(
            [self.python, "-c", _LIST_NODES, self.address, str(expected)],
            env={**self.env, **CLIENT_ON_LOOPBACK},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout.splitlines()[-1]))

    def listening(self) -> set[str]:
        """The addresses the cluster's processes accept connections on."""
        addresses = set()
        for process in self.processes:
            for member in _group(process.pid):
                with contextlib.suppress(psutil.Error):
                    for conn in member.net_connections(kind="inet"):
                        if conn.status == psutil.CONN_LISTEN:
                            address = ipaddress.ip_address(conn.laddr.ip)
                            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                                address = address.ipv4_mapped  # ::ffff:127.0.0.1
                            addresses.add(str(address))
        return addresses

    def stop(self) -> None:
        """End both nodes and everything they started, even when a test failed half-way."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
            # `ray start --block` takes its time over SIGTERM, and what ignored it, or
            # outlived `ray start`, is still in the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(self.sockets, ignore_errors=True)


def _group(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pgid:
                members.append(process)
    return members
