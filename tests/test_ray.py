"""Nodes with ``run_mode: ray`` on a real local Ray, started by the server on first use.

The server runs as its own process here, as in real use: Ray then lives in that process's
tree and its shutdown cannot touch the test session's database.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from jupyter_process import JupyterProcess
from test_runs_api import running
from test_runs_outlive_server import wait_run

pytestmark = pytest.mark.ray


@pytest.fixture
def server(tmp_path):
    process = JupyterProcess(
        tmp_path,
        f"--FusionpipeApp.embedded_db_path={tmp_path / 'pgdata'}",
        f"--FusionpipeApp.data_path={tmp_path / 'data'}",
        "--FusionpipeApp.max_parallel_nodes=2",
    )
    process.wait_ready()
    yield process
    assert process.stop() == 0


def ray_node(server, pipeline, tag, code):
    node = server.request("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": tag})
    server.request("PUT", f"nodes/{node['id']}/parameters", {"content": "run_mode: ray\n"})
    (Path(node["folder"]) / "code" / "main.py").write_text(textwrap.dedent(code))
    return node


def kill_a_sleeping_node(server, pipeline, tmp_path, *, timeout):
    """Start a Ray node that sleeps with a child of its own, kill it: the whole tree ends."""
    pidfile = tmp_path / "grandchild.pid"
    sleeper = ray_node(
        server,
        pipeline,
        "sleeper",
        f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        time.sleep(60)
    """,
    )
    started = server.request(
        "POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [sleeper["id"]]}
    )
    deadline = time.monotonic() + timeout
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    server.request("POST", f"pipelines/{pipeline['id']}/nodes/{sleeper['id']}/kill")
    finished = wait_run(server, started["id"], timeout=timeout)
    assert finished["nodes"][0]["status"] == "failed"
    assert finished["nodes"][0]["reason"].startswith("killed by")
    deadline = time.monotonic() + 5
    while running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(grandchild), "the node's child survived the kill on Ray"


def test_a_chain_runs_on_ray_and_a_kill_ends_the_whole_tree(server, tmp_path):
    project = server.request("POST", "projects", {"tag": "ray"})
    pipeline = server.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    a = ray_node(
        server,
        pipeline,
        "a",
        """
        import fusionpipe
        (fusionpipe.data_dir() / "x.txt").write_text("20")
        print("on ray")
    """,
    )
    b = ray_node(
        server,
        pipeline,
        "b",
        """
        import fusionpipe
        value = int((fusionpipe.parent("01").data_dir / "x.txt").read_text())
        (fusionpipe.data_dir() / "x.txt").write_text(str(value + 22))
    """,
    )
    server.request(
        "POST", f"pipelines/{pipeline['id']}/edges", {"source": a["id"], "target": b["id"]}
    )
    started = server.request("POST", f"pipelines/{pipeline['id']}/runs", {})
    finished = wait_run(server, started["id"], timeout=180)
    assert finished["status"] == "completed", [
        (n["status"], n["reason"]) for n in finished["nodes"]
    ]
    assert {n["backend"] for n in finished["nodes"]} == {"ray"}
    assert (Path(b["folder"]) / "data" / "x.txt").read_text() == "42"
    assert "on ray" in server.request("GET", f"nodes/{a['id']}/log")["content"]

    kill_a_sleeping_node(server, pipeline, tmp_path, timeout=60)
    items_run_on_ray(server, pipeline)


def items_run_on_ray(server, pipeline):
    """A mapped Ray node: each item is a Ray task (its process's parent is a Ray worker), with
    its own folder and metrics; a failing item leaves the others completed."""
    node = ray_node(
        server,
        pipeline,
        "mapped",
        """
        import os, sys, fusionpipe
        n = fusionpipe.item()["n"]
        parent = open(f"/proc/{os.getppid()}/cmdline").read()
        (fusionpipe.data_dir() / "parent.txt").write_text(parent)
        fusionpipe.metrics(square=n * n)
        sys.exit(1 if n == 3 else 0)
    """,
    )
    content = "run_mode: ray\nmap:\n  n: [1, 2, 3, 4]\n"
    server.request("PUT", f"nodes/{node['id']}/parameters", {"content": content})
    started = server.request("POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [node["id"]]})
    finished = wait_run(server, started["id"], timeout=180)
    assert finished["status"] == "failed"
    page = server.request("GET", f"nodes/{node['id']}/items")
    assert [(i["id"], i["status"]) for i in page["items"]] == [
        ("n=1", "completed"),
        ("n=2", "completed"),
        ("n=3", "failed"),
        ("n=4", "completed"),
    ]
    assert [i["metrics"]["square"] for i in page["items"]] == [1, 4, 9, 16]
    for n in (1, 2, 4):
        parent = (Path(node["folder"]) / "data" / f"n={n}" / "parent.txt").read_text()
        assert parent.startswith("ray::"), parent


def test_resources_reach_ray_a_timeout_ends_the_tree_and_an_impossible_gpu_fails_at_once(
    server, tmp_path
):
    project = server.request("POST", "projects", {"tag": "ray-scheduling"})
    pipeline = server.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    pidfile = tmp_path / "grandchild.pid"
    slow = ray_node(
        server,
        pipeline,
        "slow",
        f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "120"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        time.sleep(120)
    """,
    )
    server.request(
        "PUT",
        f"nodes/{slow['id']}/parameters",
        # Ray refuses task options it cannot use: these reach it.
        # The limit leaves time for a worker to start under load and run the node's first lines.
        {"content": "run_mode: ray\ntimeout: 20s\nresources:\n  cpus: 1\n  memory: 100MB\n"},
    )
    started = server.request("POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [slow["id"]]})
    finished = wait_run(server, started["id"], timeout=120)
    entry = finished["nodes"][0]
    assert (entry["status"], entry["reason"], entry["backend"]) == (
        "failed",
        "timed out after 20s",
        "ray",
    )
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(grandchild), "the node's child survived its timeout on Ray"

    gpu = ray_node(server, pipeline, "gpu", "print('never')\n")
    server.request(
        "PUT",
        f"nodes/{gpu['id']}/parameters",
        {"content": "run_mode: ray\nresources:\n  gpus: 1\n"},
    )
    began = time.monotonic()
    started = server.request("POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [gpu["id"]]})
    finished = wait_run(server, started["id"], timeout=30)
    assert time.monotonic() - began < 5, "an impossible request must not sit pending"
    entry = finished["nodes"][0]
    assert (entry["status"], entry["reason"]) == (
        "failed",
        "could not start: it asks for 1 GPU and the Ray cluster has 0 GPUs in all",
    )
