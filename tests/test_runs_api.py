"""Runs through the REST API with real node processes: kill, cancel, history, logs, and each
kind of node. Ordering, skipping, parallelism and failures are in test_run_engine.py."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from pathlib import Path

import pytest
from test_nodes_api import add_node, connect, set_status_in_db, setup_pipeline

from fusionpipe_server.service.runs import service as run_service
from fusionpipe_server.service.runs.environments import EnvironmentService


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["FusionpipeApp"]["max_parallel_nodes"] = 2
    return jp_server_config


def running(pid):
    """Alive and not a zombie (a dead child nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def write_code(node, source, name="main.py"):
    path = Path(node["folder"]) / "code" / name
    path.write_text(textwrap.dedent(source))


async def wait_run(api, run_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, run = await api("GET", f"runs/{run_id}")
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def nothing_to_run(started):
    """A run may have ended by the time its start is answered only when it had nothing to
    execute: every node skipped, decided while it was planned."""
    return started["status"] == "completed" and all(
        node["status"] == "skipped" for node in started["nodes"]
    )


async def run(api, pipeline, **body):
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", body)
    assert status == 202, started
    assert started["status"] in ("queued", "running") or nothing_to_run(started), started
    return await wait_run(api, started["id"])


def outcome(finished):
    return {node["node_id"]: node["status"] for node in finished["nodes"]}


async def graph_nodes(api, pipeline):
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    return {node["tag"]: node for node in graph["nodes"]}


async def test_kill_ends_the_whole_process_tree(api, tmp_path):
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    pidfile = tmp_path / "grandchild.pid"
    write_code(
        a,
        f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        time.sleep(60)
    """,
    )
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        await asyncio.sleep(0.05)
    grandchild = int(pidfile.read_text())
    status, _ = await api("POST", f"pipelines/{pipeline['id']}/nodes/{a['id']}/kill")
    assert status == 202
    finished = await wait_run(api, started["id"])
    assert outcome(finished) == {a["id"]: "failed"}
    assert finished["nodes"][0]["reason"].startswith("killed by")
    deadline = time.monotonic() + 5
    while running(grandchild) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not running(grandchild), "the grandchild survived the kill"
    status, body = await api("POST", f"pipelines/{pipeline['id']}/nodes/{a['id']}/kill")
    assert status == 409 and "not running" in body["message"]


async def test_a_kill_another_server_has_not_done_yet_is_not_said_done(
    api, database_url, monkeypatch
):
    """The answer is what happened: a node some other server runs and that has not ended
    when the wait is over is ``killed: false``, with why (it used to say ``true`` always)."""
    monkeypatch.setattr(run_service, "REMOTE_KILL_SECONDS", 0.3)
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    set_status_in_db(database_url, {a["id"]: "running"})  # as if another server ran it
    status, body = await api("POST", f"pipelines/{pipeline['id']}/nodes/{a['id']}/kill")
    assert status == 202, body
    assert body == {
        "node_id": a["id"],
        "killed": False,
        "message": "asked the server running it; the node has not ended yet",
    }


async def test_cancel_stops_the_run(api):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    write_code(a, "import time\ntime.sleep(60)\n")
    _, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})
    for _ in range(200):
        nodes = await graph_nodes(api, pipeline)
        if nodes["a"]["started_at"]:
            break
        await asyncio.sleep(0.02)
    # The graph says since when a running node runs, for the panel's elapsed time.
    assert nodes["a"]["status"] == "running" and nodes["b"]["started_at"] is None
    assert nodes["a"]["started_at"] >= started["created_at"]
    status, cancelled = await api("POST", f"runs/{started['id']}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    assert outcome(cancelled) == {a["id"]: "failed", b["id"]: "cancelled"}
    assert (await graph_nodes(api, pipeline))["a"]["started_at"] is None
    status, _ = await api("POST", f"runs/{started['id']}/cancel")
    assert status == 409


async def test_a_cancel_answers_while_an_environment_is_still_being_built(api, monkeypatch):
    """Nothing to kill yet while a node's environment builds: the cancel answers with the run
    as it is instead of holding the request until the build is over (minutes, once)."""
    building, release = asyncio.Event(), asyncio.Event()

    async def slow_build(self, node_id, tag, folder, log_path):
        building.set()
        await asyncio.wait_for(release.wait(), 30)
        return True

    monkeypatch.setattr(EnvironmentService, "ensure", slow_build)
    monkeypatch.setattr(run_service, "CANCEL_WAIT_SECONDS", 0.3)
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    _, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})
    await asyncio.wait_for(building.wait(), 10)
    began = time.monotonic()
    status, answer = await api("POST", f"runs/{started['id']}/cancel")
    assert status == 200 and answer["id"] == started["id"], answer
    assert time.monotonic() - began < 5
    assert answer["status"] == "running"
    release.set()
    finished = await wait_run(api, started["id"])
    assert finished["status"] == "cancelled"
    assert outcome(finished)[a["id"]] != "completed"


async def test_a_kill_before_the_node_started_keeps_it_from_starting(api, monkeypatch):
    """A kill that arrives while the node is claimed but its process not started yet (its
    environment still being checked) is not lost: the node never starts."""
    building, release = asyncio.Event(), asyncio.Event()

    async def slow_build(self, node_id, tag, folder, log_path):
        building.set()
        await asyncio.wait_for(release.wait(), 30)
        return True

    monkeypatch.setattr(EnvironmentService, "ensure", slow_build)
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    write_code(node, "open('../ran', 'w').write('yes')\n")
    _, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})
    await asyncio.wait_for(building.wait(), 10)
    status, body = await api("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill")
    assert status == 202 and body == {"node_id": node["id"], "killed": True}, body
    release.set()
    finished = await wait_run(api, started["id"])
    entry = finished["nodes"][0]
    assert entry["status"] == "failed", entry
    assert entry["reason"].startswith("killed by") and "before it started" in entry["reason"]
    assert not (Path(node["folder"]) / "ran").exists(), "the node's code never ran"


async def test_history_per_pipeline_and_per_node(api):
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    first = await run(api, pipeline)
    await api(
        "POST", f"pipelines/{pipeline['id']}/status", {"node_ids": [a["id"]], "status": "staledata"}
    )
    second = await run(api, pipeline)
    _, history = await api("GET", f"pipelines/{pipeline['id']}/runs")
    assert [r["id"] for r in history["runs"]] == [second["id"], first["id"]]
    assert history["runs"][0]["requested_by"]
    _, node_history = await api("GET", f"nodes/{a['id']}/runs?limit=1")
    assert [r["id"] for r in node_history["runs"]] == [second["id"]]
    _, log = await api("GET", f"nodes/{a['id']}/log?run_id={first['id']}&tail=1")
    assert log["content"].strip() == "fusionpipe: completed"
    assert (await api("GET", "runs/r_nothing"))[0] == 404
    assert (await api("GET", f"nodes/{a['id']}/log?tail=zero"))[0] == 400


async def test_shell_and_octave_nodes_run(api):
    pipeline = await setup_pipeline(api)
    shell = await add_node(api, pipeline, "sh", kind="shell")
    octave = await add_node(api, pipeline, "m", kind="matlab")
    write_code(shell, "echo shell says $FUSIONPIPE_NODE_ID > ../data/out.txt\n", "main.sh")
    write_code(
        octave,
        "fid = fopen('../data/out.txt', 'w'); fprintf(fid, '%d', 6 * 7); fclose(fid);\n",
        "main.m",
    )
    finished = await run(api, pipeline)
    assert finished["status"] == "completed", finished
    assert (
        Path(shell["folder"]) / "data" / "out.txt"
    ).read_text().strip() == f"shell says {shell['id']}"
    assert (Path(octave["folder"]) / "data" / "out.txt").read_text() == "42"


async def test_notebook_nodes_run_headless_with_parameters_injected(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "nb", kind="notebook")
    await api("PUT", f"nodes/{node['id']}/parameters", {"content": "run_mode: local\nscale: 3\n"})
    finished = await run(api, pipeline)
    assert finished["status"] == "completed", await api("GET", f"nodes/{node['id']}/log")
    executed = Path(node["folder"]) / "reports" / f"main-{finished['id']}.ipynb"
    notebook = json.loads(executed.read_text())
    assert "injected-parameters" in notebook["cells"][0]["metadata"]["tags"]
    assert "'scale': 3" in "".join(notebook["cells"][2]["outputs"][0]["text"])
    assert (Path(node["folder"]) / "data" / "result.txt").read_text() == "done\n"


async def test_a_failing_notebook_fails_the_node_and_keeps_the_executed_copy(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "nb", kind="notebook")
    source = Path(node["folder"]) / "code" / "main.ipynb"
    notebook = json.loads(source.read_text())
    notebook["cells"][1]["source"] = ["raise ValueError('bad input')"]
    source.write_text(json.dumps(notebook))
    finished = await run(api, pipeline)
    assert finished["status"] == "failed"
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert "bad input" in log["content"]
    assert (Path(node["folder"]) / "reports" / f"main-{finished['id']}.ipynb").exists()


async def test_a_node_with_requirements_gets_its_own_environment(api, tmp_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "isolated")
    code = Path(node["folder"]) / "code"
    # A local package, so the test needs no network: installed into the node's environment only.
    package = tmp_path / "tinypkg"
    (package / "tinypkg").mkdir(parents=True)
    (package / "tinypkg" / "__init__.py").write_text("ANSWER = 42\n")
    (package / "pyproject.toml").write_text(
        '[project]\nname = "tinypkg"\nversion = "1.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    assert (await api("GET", f"nodes/{node['id']}"))[1]["environment"] == "none"
    # No canvas open: nothing watches the folder, so the run builds the environment itself
    # (test_environments_ahead.py covers builds ahead of runs).
    (code / "requirements.txt").write_text(f"{package}\n")
    assert (await api("GET", f"nodes/{node['id']}"))[1]["environment"] in ("missing", "building")
    write_code(
        node,
        """
        import sys, tinypkg, fusionpipe
        print("python", sys.executable)
        (fusionpipe.data_dir() / "answer.txt").write_text(str(tinypkg.ANSWER))
    """,
    )
    finished = await run(api, pipeline)
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert finished["status"] == "completed", log["content"]
    assert "building the node's environment" in log["content"]
    assert f"python {code / '.venv' / 'bin' / 'python'}" in log["content"]
    assert (Path(node["folder"]) / "data" / "answer.txt").read_text() == "42"
    _, fetched = await api("GET", f"nodes/{node['id']}")
    assert (fetched["environment"], fetched["kernel"]) == ("ready", f"fusionpipe-{node['id']}")

    await api(
        "POST",
        f"pipelines/{pipeline['id']}/status",
        {"node_ids": [node["id"]], "status": "staledata"},
    )
    await run(api, pipeline)
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert "building" not in log["content"], "unchanged requirements reuse the environment"

    (code / "requirements.txt").write_text("this-package-does-not-exist-fusionpipe==0\n")
    await api(
        "POST",
        f"pipelines/{pipeline['id']}/status",
        {"node_ids": [node["id"]], "status": "staledata"},
    )
    failed = await run(api, pipeline)
    assert failed["status"] == "failed"
    assert "environment could not be built" in failed["nodes"][0]["reason"]
