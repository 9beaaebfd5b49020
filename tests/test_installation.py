"""The installations people make: the README's development one (both extensions enabled), and
the built wheel, installed into a fresh environment with no Node and no checkout, where
`jupyter lab` serves the prebuilt lab extension and the REST API answers.

The wheel comes from $FUSIONPIPE_DIST (a folder where `make dist` put the sdist and the wheel,
so that CI builds them once), else it is built here with `python -m build`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from jupyter_process import TOKEN, free_port

REPOSITORY = Path(__file__).resolve().parent.parent
# The one place the version is written; Python's metadata is built from it.
VERSION = json.loads((REPOSITORY / "package.json").read_text())["version"]


def plain(text: str) -> str:
    """Jupyter colours its status words; compare plain text."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def jupyter(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, check=True
    )
    return plain(result.stdout + result.stderr)


def test_the_lab_extension_is_enabled_and_ok():
    listing = jupyter("labextension", "list")
    assert re.search(rf"fusionpipe v{re.escape(VERSION)} enabled\s+OK", listing), listing


def test_the_server_extension_is_enabled_and_ok():
    listing = jupyter("server", "extension", "list")
    assert re.search(r"fusionpipe_server enabled", listing)
    assert re.search(rf"fusionpipe_server {re.escape(VERSION)} OK", listing), listing


def test_the_version_has_one_source():
    import fusionpipe_server

    assert fusionpipe_server.__version__ == VERSION
    assert 'dynamic = ["version"]' in (REPOSITORY / "pyproject.toml").read_text()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("FUSIONPIPE_DIST")
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(out), "."],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
    )
    return out


def test_the_sdist_and_the_wheel_hold_the_built_lab_extension(dist):
    with tarfile.open(dist / f"fusionpipe-{VERSION}.tar.gz") as sdist:
        names = sdist.getnames()
    assert f"fusionpipe-{VERSION}/labextension/static/style.js" in names
    assert f"fusionpipe-{VERSION}/src/index.ts" in names  # and what it is built from
    with zipfile.ZipFile(dist / f"fusionpipe-{VERSION}-py3-none-any.whl") as wheel:
        names = wheel.namelist()
    data = f"fusionpipe-{VERSION}.data/data"
    lab = f"{data}/share/jupyter/labextensions/fusionpipe"
    assert f"{lab}/package.json" in names and f"{lab}/install.json" in names
    assert any(re.fullmatch(rf"{lab}/static/remoteEntry\.\w+\.js", name) for name in names)
    assert f"{data}/etc/jupyter/jupyter_server_config.d/fusionpipe_server.json" in names
    assert "fusionpipe_server/folders/example/fit.ipynb" in names
    assert "fusionpipe/matlab/fp_parents.m" in names


def get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status), response.read().decode()


def test_the_wheel_installs_and_serves_without_node_or_checkout(dist, tmp_path):
    venv, home, root = tmp_path / "venv", tmp_path / "home", tmp_path / "root"
    home.mkdir()
    root.mkdir()
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    # uv rather than pip: the same wheel and metadata, installed in seconds instead of minutes.
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([uv, "venv", "--quiet", "--python", base_python, str(venv)], check=True)
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(dist / f"fusionpipe-{VERSION}-py3-none-any.whl"),
        ],
        check=True,
    )
    path = str(venv / "bin")
    assert shutil.which("node", path=path) is None
    hidden = ("VIRTUAL_ENV", "PYTHONPATH", "DATABASE_URL", "FUSIONPIPE_DATA_PATH")
    environment = {
        k: v for k, v in os.environ.items() if k not in hidden and not k.startswith("JUPYTER")
    }
    environment.update(PATH=path, HOME=str(home))

    def installed(*args: str) -> str:
        result = subprocess.run(
            ["jupyter", *args], env=environment, cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return plain(result.stdout + result.stderr)

    labextensions = installed("labextension", "list")
    assert str(venv / "share" / "jupyter" / "labextensions") in labextensions
    assert re.search(rf"fusionpipe v{re.escape(VERSION)} enabled\s+OK", labextensions)
    server_extensions = installed("server", "extension", "list")
    assert "fusionpipe_server enabled" in server_extensions, server_extensions
    assert f"fusionpipe_server {VERSION} OK" in server_extensions, server_extensions

    port = free_port()
    command = ["jupyter", "lab", "--no-browser", f"--port={port}"]
    command += [f"--IdentityProvider.token={TOKEN}"]
    command += ["--allow-root"] if os.getuid() == 0 else []
    log_path = tmp_path / "lab.log"
    with log_path.open("wb") as log:
        lab = subprocess.Popen(
            command, env=environment, cwd=root, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                assert lab.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                try:
                    status, body = get(f"{base}/fusionpipe/api/projects")
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.2)
            assert status == 200 and json.loads(body) == {"projects": []}
            status, page = get(f"{base}/lab")
            assert status == 200
            config = json.loads(
                re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1)
            )
            (served,) = [e for e in config["federated_extensions"] if e["name"] == "fusionpipe"]
            assert get(f"{base}/lab/extensions/fusionpipe/{served['load']}")[0] == 200
        finally:
            lab.send_signal(signal.SIGTERM)
            lab.wait(60)
    pgdata = home / ".local" / "share" / "jupyter" / "fusionpipe" / "postgres"
    assert not (pgdata / "postmaster.pid").exists(), log_path.read_text()
    assert "fusionpipe: data folder" in log_path.read_text()
