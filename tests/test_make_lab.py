"""The README's first command, `make lab`, serves JupyterLab with fusionpipe, also as root
(containers and CI runners), and a SIGTERM stops it together with its embedded PostgreSQL.

It runs in a throwaway HOME, configuration folder and root folder on a free port, so the
developer's own Jupyter setup and data are never touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from jupyter_process import TOKEN, free_port

from fusionpipe_server.runners.processes import is_alive

REPOSITORY = Path(__file__).resolve().parent.parent


def get(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_make_lab_serves_the_lab_as_root_and_stops_on_sigterm(tmp_path):
    assert os.getuid() == 0, "this test checks the root case: run it as root, as CI does"
    home, config, root = tmp_path / "home", tmp_path / "config", tmp_path / "root"
    for folder in (home, config, root):
        folder.mkdir()
    port = free_port()
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"port": port, "open_browser": False, "root_dir": str(root)},
                "IdentityProvider": {"token": TOKEN},
            }
        )
    )
    hidden = {"DATABASE_URL", "FUSIONPIPE_DATA_PATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    environment = {k: v for k, v in os.environ.items() if k not in hidden}
    environment.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(config))
    log_path = tmp_path / "make-lab.log"
    with log_path.open("wb") as log:
        # `-o install`: the installation is `make install`'s business (CI runs it first); this
        # runs the recipe that serves the lab, as `make lab` does once installed.
        make = subprocess.Popen(
            ["make", "-C", str(REPOSITORY), "-o", "install", "lab"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                assert make.poll() is None, f"make lab exited:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"no lab after 90 s:\n{log_path.read_text()}"
                try:
                    assert get(f"http://127.0.0.1:{port}/api/status") == 200
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.2)
            assert get(f"http://127.0.0.1:{port}/lab") == 200
            assert get(f"http://127.0.0.1:{port}/fusionpipe/api/projects") == 200
            pgdata = home / ".local" / "share" / "jupyter" / "fusionpipe" / "postgres"
            postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
            assert is_alive(postmaster)
        finally:
            # As a terminal's Ctrl-C would: the signal goes to make and the lab it started.
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(60)
    output = log_path.read_text()
    assert "/.venv/bin/jupyter lab --allow-root\n" in output, output
    assert "received signal 15, stopping" in output, output
    deadline = time.monotonic() + 30
    while is_alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_alive(postmaster), "the embedded PostgreSQL outlived the lab"
    assert not (pgdata / "postmaster.pid").exists()
