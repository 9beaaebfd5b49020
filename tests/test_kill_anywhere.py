"""Kill and cancel reach a node wherever it runs: a headless ``fusionpipe run`` obeys a kill
asked in the lab, and ``fusionpipe kill`` ends a node the lab's server runs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from test_nodes_api import add_node, setup_pipeline
from test_runs_api import wait_run, write_code
from test_staleness import wait_for

SLEEPER = "import time\ntime.sleep(60)\n"


def cli(database_url, data_path, *args):
    env = {**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)}
    return subprocess.Popen(
        [sys.executable, "-m", "fusionpipe_server.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def is_running(api, node):
    _, body = await api("GET", f"nodes/{node['id']}")
    return body["status"] == "running"


async def wait_running(api, node):
    await wait_for(
        lambda: is_running(api, node), timeout=30, what="the headless run starting the node"
    )


async def test_a_headless_run_obeys_a_kill_from_the_lab(api, database_url, data_path):
    pipeline = await setup_pipeline(api, "headless")
    node = await add_node(api, pipeline, "sleeper")
    write_code(node, SLEEPER)
    headless = cli(database_url, data_path, "run", "headless")
    await wait_running(api, node)
    status, body = await api("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill")
    assert status == 202 and body["killed"] is True, body
    output, _ = await asyncio.to_thread(headless.communicate, timeout=30)
    assert headless.returncode == 1, output
    assert "FAIL sleeper" in output and "killed by" in output


async def test_a_kill_the_running_server_has_not_obeyed_in_time_says_so(
    api, database_url, data_path, monkeypatch
):
    monkeypatch.setattr("fusionpipe_server.service.runs.service.REMOTE_KILL_SECONDS", 1.0)
    pipeline = await setup_pipeline(api, "stuck")
    node = await add_node(api, pipeline, "sleeper")
    write_code(node, SLEEPER)
    headless = cli(database_url, data_path, "run", "stuck")
    await wait_running(api, node)
    # The process running the node is stopped: it cannot hear the kill for now.
    os.kill(headless.pid, signal.SIGSTOP)
    try:
        kill = f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill"
        status, body = await api("POST", kill)
        assert status == 202, body
        assert body == {
            "node_id": node["id"],
            "killed": False,
            "message": "asked the server running it; the node has not ended yet",
        }
        assert await is_running(api, node), "the reply says what is true: it still runs"
    finally:
        os.kill(headless.pid, signal.SIGCONT)
    # Once it listens again, it obeys the kill it was sent.
    output, _ = await asyncio.to_thread(headless.communicate, timeout=30)
    assert headless.returncode == 1 and "killed by" in output, output


async def test_the_kill_command_ends_a_node_the_lab_runs(api, database_url, data_path):
    pipeline = await setup_pipeline(api, "in-lab")
    node = await add_node(api, pipeline, "sleeper")
    write_code(node, SLEEPER)
    _, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})

    async def node_running():
        _, run = await api("GET", f"runs/{started['id']}")
        return run["nodes"][0]["status"] == "running"

    await wait_for(node_running, timeout=30, what="the node starting")
    killer = cli(database_url, data_path, "kill", "in-lab", "sleeper")
    output, _ = await asyncio.to_thread(killer.communicate, timeout=30)
    assert killer.returncode == 0, output
    finished = await wait_run(api, started["id"])
    assert finished["nodes"][0]["status"] == "failed"
    assert finished["nodes"][0]["reason"].startswith("killed by")
