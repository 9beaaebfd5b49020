"""Staleness seen across servers and from the command line: another server on the same
database and data folder (another user's, on a shared JupyterHub) saves a file, and this one
shows the node stale; ``fusionpipe status`` says the same."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from jupyter_process import TOKEN, JupyterProcess
from test_staleness import chain, code, node_json, reasons, wait_for


def save_through(server: JupyterProcess, path: str, text: str) -> None:
    """What the lab's editor does on Ctrl+S: a PUT to the contents API of that server."""
    body = json.dumps({"type": "file", "format": "text", "content": text}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/contents/{path}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


# No periodic scan on either server within the test: only the save itself (the other server
# sees it, and the database tells this one) can turn the node stale, so the wait may be as long
# as a busy machine needs without the scan passing the test instead.
NO_SCAN = 3600.0


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["FusionpipeApp"]["staleness_scan_interval"] = NO_SCAN
    return jp_server_config


async def test_a_save_on_another_server_shows_here(api, database_url, data_path, tmp_path):
    _, a, _ = await chain(api)
    root = tmp_path / "other-user"
    root.mkdir()
    other = JupyterProcess(
        root,
        f"--FusionpipeApp.database_url={database_url}",
        f"--FusionpipeApp.data_path={data_path}",
        f"--FusionpipeApp.staleness_scan_interval={NO_SCAN}",
    )
    try:
        other.wait_ready()
        relative = Path(a["folder"]).relative_to(data_path)
        source = code(a).read_text() + "\nprint('saved by a colleague')\n"
        save_through(other, f"fusionpipe-data/{relative}/code/main.py", source)

        async def stale():
            node = await node_json(api, a)
            return node["status"] == "staledata" and reasons(node)

        found = await wait_for(stale, timeout=30.0, what="this server showing the edit")
        assert found == [("code", "code/main.py changed")]
    finally:
        other.stop()


async def test_status_command_prints_reasons_and_exits_by_them(api, database_url, data_path):
    pipeline, a, _ = await chain(api)
    command = [sys.executable, "-m", "fusionpipe_server.cli", "status", pipeline["tag"]]
    env = {**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)}
    # From a thread: the test's own server shares this event loop and must go on serving.
    clean = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "everything is up to date" in clean.stdout
    code(a).write_text(code(a).read_text() + "\nprint('edited')\n")
    stale = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "code: code/main.py changed" in stale.stdout
    assert "upstream: a is stale" in stale.stdout
    missing = await asyncio.to_thread(
        subprocess.run,
        [*command[:-1], "no-such-pipeline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no-such-pipeline" in missing.stderr
