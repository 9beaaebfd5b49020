"""Nodes with ``run_mode: slurm`` on the session's real single-node Slurm (slurm_cluster.py),
through the run engine: what a job is given, how it ends, kills and timeouts, an impossible
request refused with Slurm's words, and a mapped node as one job array whose failed items
run again as a smaller array."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from test_runs_api import write_code

from fusionpipe_server.errors import Invalid

# Every test waits on real jobs: the queue is looked at often.
POLL_SECONDS = "0.2"


@pytest.fixture(autouse=True)
def slurm(slurm_cluster, monkeypatch):
    monkeypatch.setenv("FP_SLURM_POLL_SECONDS", POLL_SECONDS)
    yield slurm_cluster
    # A failed test's jobs must not hold the test cluster's CPUs from the next test.
    slurm_cluster.cancel_all()


async def slurm_node(engine, pipeline, tag, code, parameters=""):
    node = await engine.node(pipeline, tag)
    await engine.set_parameters(node, "run_mode: slurm\n" + parameters)
    write_code(node, code)
    return node


def data(node) -> Path:
    return Path(node["folder"]) / "data"


async def job_of(engine, run_id, timeout=30.0):
    """The job id recorded for the run's one node, once it has one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (entry,) = (await engine.run_json(run_id))["nodes"]
        if entry["job_id"]:
            return entry["job_id"]
        await asyncio.sleep(0.1)
    raise AssertionError("no job id was recorded")


async def wait_state(slurm, job_id, state, timeout=30.0):
    deadline = time.monotonic() + timeout
    while slurm.job(job_id)["JobState"] != state:
        assert time.monotonic() < deadline, slurm.job(job_id)
        await asyncio.sleep(0.1)


async def test_a_node_runs_as_a_job_with_its_resources_and_its_log(engine, slurm):
    pipeline = await engine.pipeline()
    node = await slurm_node(
        engine,
        pipeline,
        "job",
        """
        import os
        from pathlib import Path
        print("hello from", os.environ["SLURM_JOB_ID"], flush=True)
        seen = os.environ["SLURM_CPUS_PER_TASK"] + " " + os.environ["FOO"]
        Path("../data/env.txt").write_text(seen)
        """,
        f"resources:\n  cpus: {slurm.cpus}\nslurm:\n  setup: ['export FOO=set-up']\n",
    )
    finished = await engine.run(pipeline)
    (entry,) = finished["nodes"]
    assert entry["status"] == "completed", entry
    assert entry["exit_code"] == 0 and entry["tries"][0]["backend"] == "slurm"
    assert (data(node) / "env.txt").read_text() == f"{slurm.cpus} set-up"
    # The node ends with its exit file; Slurm may still be COMPLETING the job a moment.
    await wait_state(slurm, entry["job_id"], "COMPLETED")
    assert slurm.job(entry["job_id"])["NumCPUs"] == str(slurm.cpus)
    log = await engine.log_text(node)
    assert f"hello from {entry['job_id']}" in log and "fusionpipe: completed" in log


async def test_a_failure_keeps_its_exit_code(engine, slurm):
    pipeline = await engine.pipeline()
    node = await slurm_node(engine, pipeline, "fails", "import sys\nprint('oops')\nsys.exit(3)\n")
    (entry,) = (await engine.run(pipeline))["nodes"]
    assert entry["status"] == "failed" and entry["exit_code"] == 3
    assert entry["reason"] == "exit code 3"
    assert slurm.job(entry["job_id"])["ExitCode"] == "3:0"
    assert "oops" in await engine.log_text(node)


async def test_a_kill_cancels_the_job(engine, slurm):
    pipeline = await engine.pipeline()
    node = await slurm_node(engine, pipeline, "sleeper", "import time\ntime.sleep(120)\n")
    started = await engine.start(pipeline)
    job_id = await job_of(engine, started["id"])
    await wait_state(slurm, job_id, "RUNNING")
    await engine.kill(pipeline, node)
    (entry,) = (await engine.wait_run(started["id"]))["nodes"]
    assert entry["status"] == "failed" and entry["reason"].startswith("killed by")
    await wait_state(slurm, job_id, "CANCELLED")


async def test_a_job_submitted_after_the_last_look_at_the_queue_is_not_taken_for_gone(
    engine, slurm
):
    """squeue is asked once an interval for every job: a job submitted after that look is
    missing from it, and must be looked for anew, not judged forgotten by Slurm (which ended
    it at once as 'ended while no server watched it'). The held job holds none of this
    server's slots (max_parallel_nodes is 1 here): Slurm queues its jobs itself."""
    runner = engine.service.runs.engine.runners["slurm"]
    runner.poll_seconds = runner.queue.interval = 12.0  # one look, fresh for 6 s
    pipeline = await engine.pipeline()
    held = await slurm_node(engine, pipeline, "held", "", 'slurm:\n  options: ["--hold"]\n')
    first = await engine.start(pipeline, node_ids=[held["id"]])
    await wait_state(slurm, await job_of(engine, first["id"]), "PENDING")
    other = await engine.pipeline("q")
    await slurm_node(engine, other, "quick", "print('ran')\n")
    (entry,) = (await engine.run(other))["nodes"]
    assert entry["status"] == "completed", entry
    await engine.cancel(first["id"])


async def test_a_timeout_is_enforced_to_the_second_and_asked_of_slurm(engine, slurm):
    pipeline = await engine.pipeline()
    await slurm_node(engine, pipeline, "slow", "import time\ntime.sleep(120)\n", "timeout: 3s\n")
    began = time.monotonic()
    (entry,) = (await engine.run(pipeline))["nodes"]
    assert entry["status"] == "failed" and entry["reason"] == "timed out after 3s"
    # Slurm's pending and start take a moment; its own limit, a whole minute, never struck.
    assert time.monotonic() - began < 30
    job = slurm.job(entry["job_id"])
    assert job["TimeLimit"] == "00:01:00"
    await wait_state(slurm, entry["job_id"], "CANCELLED")


async def test_an_impossible_request_fails_at_once_with_slurms_words(engine, slurm):
    pipeline = await engine.pipeline()
    bad = await slurm_node(engine, pipeline, "bad", "print(1)\n", "slurm:\n  partition: nowhere\n")
    (entry,) = (await engine.run(pipeline))["nodes"]
    assert entry["status"] == "failed" and entry["job_id"] is None
    assert "Invalid partition name specified" in entry["reason"], entry
    assert "Invalid partition name specified" in await engine.log_text(bad)
    await engine.set_parameters(bad, f"run_mode: slurm\nresources:\n  cpus: {slurm.cpus + 64}\n")
    (entry,) = (await engine.run(pipeline))["nodes"]
    assert "More processors requested than permitted" in entry["reason"], entry


async def test_bad_slurm_parameters_are_refused_naming_them(engine):
    pipeline = await engine.pipeline()
    node = await engine.node(pipeline, "n")
    for text, named in (
        ("slurm:\n  partitio: x\n", "partitio"),
        ("slurm:\n  partition: 'a b'\n", "slurm.partition"),
        ("slurm:\n  options: ['--output=/tmp/x']\n", "slurm.options"),
        ("slurm:\n  options: ['; rm -rf /']\n", "slurm.options"),
        ("slurm:\n  max_running: 0\n", "slurm.max_running"),
        ("slurm: [1]\n", "slurm"),
        ("run_mode: slurmm\n", "run_mode"),
    ):
        with pytest.raises(Invalid, match=named):
            await engine.set_parameters(node, text)


ITEM = """
import json, os, fusionpipe
from pathlib import Path
seen = {{
    "array": os.environ.get("SLURM_ARRAY_JOB_ID"),
    "tasks": os.environ.get("SLURM_ARRAY_TASK_COUNT"),
    "item": os.environ["FUSIONPIPE_ITEM_ID"],
}}
(fusionpipe.data_dir() / "seen.json").write_text(json.dumps(seen))
if fusionpipe.item()["n"] % 2 and not Path({gate!r}).exists():
    raise SystemExit(5)
"""


def seen(node) -> dict[str, dict[str, str]]:
    found = {}
    for path in data(node).glob("*/seen.json"):
        values = json.loads(path.read_text())
        found[values["item"]] = values
    return found


async def test_a_mapped_node_is_one_array_and_failed_items_a_smaller_one(engine, slurm, tmp_path):
    gate = tmp_path / "odd-items-pass"
    pipeline = await engine.pipeline()
    node = await slurm_node(
        engine,
        pipeline,
        "mapped",
        ITEM.format(gate=str(gate)),
        "map:\n  n: [0, 1, 2, 3]\nslurm:\n  max_running: 2\n",
    )
    (entry,) = (await engine.run(pipeline))["nodes"]
    assert entry["status"] == "failed" and entry["reason"] == "2 of 4 items failed"
    first = seen(node)
    assert len(first) == 4
    assert {v["array"] for v in first.values()} == {entry["job_id"]}
    assert {v["tasks"] for v in first.values()} == {"4"}
    assert slurm.job(entry["job_id"])["ArrayTaskThrottle"] == "2"
    statuses = await engine.item_statuses(node)
    failed = sorted(i for i, s in statuses.items() if s == "failed")
    assert len(failed) == 2
    items = (await engine.items(node))["items"]
    assert {i["reason"] for i in items if i["status"] == "failed"} == {"exit code 5"}

    gate.touch()
    (again,) = (await engine.run(pipeline, items={node["id"]: "failed"}))["nodes"]
    assert again["status"] == "completed", again
    second = seen(node)
    rerun = {i: second[i] for i in failed}
    assert {v["array"] for v in rerun.values()} == {again["job_id"]} != {entry["job_id"]}
    assert {v["tasks"] for v in rerun.values()} == {"2"}
    assert set(await engine.item_statuses(node)) == set(statuses)
    assert set((await engine.item_statuses(node)).values()) == {"completed"}


GATED_ITEM = """
import time
from pathlib import Path
deadline = time.monotonic() + 120
while not Path({go!r}).exists() and time.monotonic() < deadline:
    time.sleep(0.1)
"""


async def test_pending_items_show_apart_and_a_kill_cancels_the_whole_array(engine, slurm, tmp_path):
    pipeline = await engine.pipeline()
    # Each item takes every CPU: one runs, the others wait for resources.
    node = await slurm_node(
        engine,
        pipeline,
        "queue",
        GATED_ITEM.format(go=str(tmp_path / "never")),
        f"map:\n  n: [0, 1, 2]\nresources:\n  cpus: {slurm.cpus}\n",
    )
    started = await engine.start(pipeline)
    array = await job_of(engine, started["id"])
    deadline = time.monotonic() + 30
    while True:
        job = (await engine.service.nodes.get(node["id"]))["job"]
        states = sorted(str(i["job_state"]) for i in (await engine.items(node))["items"])
        # Each task's state is its own execution's, renewed at its own next look at the queue.
        if job == {"id": array, "state": "2 PENDING, 1 RUNNING"} and states == [
            "PENDING (Resources)",
            "PENDING (Resources)",
            "RUNNING",
        ]:
            break
        assert time.monotonic() < deadline, (job, states)
        await asyncio.sleep(0.2)
    await engine.kill(pipeline, node)
    (entry,) = (await engine.wait_run(started["id"]))["nodes"]
    assert entry["status"] == "failed" and entry["reason"].startswith("killed by")
    # One scancel for the array: its started task and the range still pending.
    deadline = time.monotonic() + 30
    while {r["JobState"] for r in slurm.records(array)} != {"CANCELLED"}:
        assert time.monotonic() < deadline, slurm.records(array)
        await asyncio.sleep(0.1)
    assert (await engine.service.nodes.get(node["id"]))["job"] is None
    assert {i["job_state"] for i in (await engine.items(node))["items"]} == {None}
