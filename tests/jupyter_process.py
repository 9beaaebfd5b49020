"""A real ``jupyter server`` process with fusionpipe, for tests of start-up and shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "fusionpipe-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JupyterProcess:
    """Starts ``jupyter server`` in ``root`` with extra arguments; ``stop`` ends it with SIGTERM."""

    def __init__(
        self, root: Path, *args: str, env: dict[str, str] | None = None, fusionpipe: bool = True
    ) -> None:
        self.fusionpipe = fusionpipe
        self.port = free_port()
        self.log_path = root / f"jupyter-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            f"--port={self.port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.jpserver_extensions={{'fusionpipe_server': {fusionpipe}}}",
            *args,
        ]
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        environment.update(env or {})
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=root, env=environment, stdout=self.log, stderr=subprocess.STDOUT
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jupyter server exited early:\n{self.output}")
            try:
                if self.fusionpipe:
                    self.request("GET", "projects")
                else:
                    urllib.request.urlopen(
                        urllib.request.Request(
                            f"http://127.0.0.1:{self.port}/api/status",
                            headers={"Authorization": f"token {TOKEN}"},
                        ),
                        timeout=10,
                    )
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise AssertionError(f"jupyter server not ready after {timeout}s:\n{self.output}")

    def request(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/fusionpipe/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def status(self) -> Any:
        """jupyter_server's own /api/status (started, last_activity, kernels...)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/status",
            headers={"Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def wait_exit(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout)
        self.log.close()
        return code

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def kill(self) -> None:
        self.process.kill()
        self.wait_exit()
