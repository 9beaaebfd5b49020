"""Slurm jobs outlive their server: real server processes SIGKILLed while a job runs, and the
next server takes the job back by its id and records how it ended, however it ended. And
``fusionpipe admin doctor`` says whether Slurm answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from test_runs_outlive_server import GATED, start_server, wait_run  # noqa: F401

# A job the test ends itself, with scancel, while no server watches it.
ENDLESS = "import time\ntime.sleep(300)\n"


@pytest.fixture(autouse=True)
def slurm(slurm_cluster, monkeypatch):
    monkeypatch.setenv("FP_SLURM_POLL_SECONDS", "0.2")
    yield slurm_cluster
    slurm_cluster.cancel_all()


def start_slurm_run(server, code):
    project = server.request("POST", "projects", {"tag": "slurm"})
    pipeline = server.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    node = server.request("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "job"})
    server.request("PUT", f"nodes/{node['id']}/parameters", {"content": "run_mode: slurm\n"})
    (Path(node["folder"]) / "code" / "main.py").write_text(code)
    run = server.request("POST", f"pipelines/{pipeline['id']}/runs", {})
    return node, run


def running_job(database_url, slurm, run_id, timeout=60.0):
    """The run's job id (a mapped node's job array) once Slurm runs it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT job_id FROM run_nodes WHERE run_id = %s AND status = 'running'",
                (run_id,),
            ).fetchone()
        # Of an array, any of its tasks.
        if row and row[0] and "RUNNING" in {r["JobState"] for r in slurm.records(row[0])}:
            return row[0]
        time.sleep(0.1)
    raise AssertionError("the job never ran")


def test_a_job_outlives_a_killed_server_and_is_taken_back(
    start_server,  # noqa: F811
    database_url,
    slurm,
    tmp_path,
):
    go = tmp_path / "go"
    first = start_server()
    node, run = start_slurm_run(first, GATED.format(go=str(go)))
    job_id = running_job(database_url, slurm, run["id"])
    first.kill()
    assert slurm.job(job_id)["JobState"] == "RUNNING", "the job outlived its server"
    second = start_server()
    assert second.request("GET", f"nodes/{node['id']}")["status"] == "running"
    go.touch()
    finished = wait_run(second, run["id"], timeout=60)
    (entry,) = finished["nodes"]
    assert entry["status"] == "completed" and entry["exit_code"] == 0, entry
    assert entry["job_id"] == job_id
    log = second.request("GET", f"nodes/{node['id']}/log")["content"]
    assert "taken back by the server" in log and "fusionpipe: completed" in log
    assert (Path(node["folder"]) / "data" / "done.txt").read_text() == "slept"


def test_a_job_that_ended_while_no_server_watched_is_recorded_as_slurm_ended_it(
    start_server,  # noqa: F811
    database_url,
    slurm,
):
    first = start_server()
    node, run = start_slurm_run(first, ENDLESS)
    job_id = running_job(database_url, slurm, run["id"])
    first.kill()
    subprocess.run(["scancel", job_id], check=True)
    second = start_server()
    finished = wait_run(second, run["id"], timeout=60)
    (entry,) = finished["nodes"]
    assert entry["status"] == "failed", entry
    assert entry["reason"].startswith("Slurm: CANCELLED"), entry
    assert second.request("GET", f"nodes/{node['id']}")["status"] == "failed"


def doctor_says(tmp_path, env):
    """The doctor's slurm line, run as a user would (its own process)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SLURM_CONF", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", "admin", "doctor"],
        env={**environment, "HOME": str(tmp_path), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    (line,) = [line for line in result.stdout.splitlines() if " slurm: " in line]
    return line


def test_the_doctor_says_whether_slurm_answers(slurm, tmp_path):
    data = tmp_path / "data"
    assert doctor_says(tmp_path, {"FUSIONPIPE_DATA_PATH": str(data)}).startswith(
        "ok      slurm: not configured"
    )
    line = doctor_says(tmp_path, {"SLURM_CONF": str(slurm.conf)})
    assert line == "ok      slurm: answers: partitions debug* up", line
    # A node asks for Slurm where the cluster cannot be reached.
    code = data / "project" / "node" / "code"
    code.mkdir(parents=True)
    (code / "node_parameters.yaml").write_text("run_mode: slurm\n")
    line = doctor_says(
        tmp_path,
        {"FUSIONPIPE_DATA_PATH": str(data), "SLURM_CONF": str(tmp_path / "missing.conf")},
    )
    # sinfo either fails or, trying again, runs out of the doctor's patience.
    assert line.startswith("PROBLEM slurm: sinfo "), line
    assert line.endswith("; 1 node(s) use run_mode: slurm: check SLURM_CONF and munge"), line


def test_a_job_array_left_by_a_killed_server_is_cancelled_and_its_node_failed(
    start_server,  # noqa: F811
    database_url,
    slurm,
):
    first = start_server()
    project = first.request("POST", "projects", {"tag": "slurm"})
    pipeline = first.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    node = first.request("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "array"})
    parameters = "run_mode: slurm\nmap:\n  n: [0, 1, 2]\n"
    first.request("PUT", f"nodes/{node['id']}/parameters", {"content": parameters})
    (Path(node["folder"]) / "code" / "main.py").write_text(ENDLESS)
    run = first.request("POST", f"pipelines/{pipeline['id']}/runs", {})
    array = running_job(database_url, slurm, run["id"])
    first.kill()
    second = start_server()
    finished = wait_run(second, run["id"], timeout=60)
    (entry,) = finished["nodes"]
    assert entry["status"] == "failed" and entry["job_id"] == array, entry
    deadline = time.monotonic() + 30
    while {r["JobState"] for r in slurm.records(array)} != {"CANCELLED"}:
        assert time.monotonic() < deadline, slurm.records(array)
        time.sleep(0.1)
    items = second.request("GET", f"nodes/{node['id']}/items")["items"]
    assert {i["status"] for i in items} == {"failed"}, items
