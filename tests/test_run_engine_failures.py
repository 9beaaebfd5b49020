"""The run engine on its own (the ``engine`` fixture, see engine.py) when nodes fail: retries,
time limits, kills between attempts, and runs left behind by a dead server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psycopg
from test_run_engine import engine_settings
from test_runs_api import running, write_code

__all__ = ["engine_settings"]  # the fixture, shared with test_run_engine.py


# -- failures, retries, time limits, kills ---------------------------------------------------


async def test_a_timeout_kills_the_whole_tree_and_counts_as_a_failure_for_retries(engine, tmp_path):
    pipeline = await engine.pipeline()
    node = await engine.node(pipeline, "slow")
    pids = tmp_path / "pids"
    await engine.set_parameters(node, "timeout: 2s\nretries: 1\n")
    # A child shell and its grandchild sleep, in the node's process group.
    write_code(
        node,
        f"""
        import os, subprocess, time
        child = subprocess.Popen(["sh", "-c", "sleep 120 & echo $! >> {pids}; wait"])
        with open({str(pids)!r}, "a") as f:
            f.write(f"{{child.pid}}\\n")
        time.sleep(120)
        """,
    )
    began = time.monotonic()
    finished = await engine.wait_run((await engine.start(pipeline))["id"], timeout=60)
    took = time.monotonic() - began
    entry = finished["nodes"][0]
    assert (entry["status"], entry["reason"]) == ("failed", "timed out after 2s")
    assert (entry["attempt"], entry["attempts"]) == (2, 2)
    assert [t["reason"] for t in entry["tries"]] == ["timed out after 2s"] * 2
    assert took < 20, f"two 2 s attempts took {took:.1f}s"
    found = [int(line) for line in pids.read_text().split()]
    assert len(found) == 4, "each attempt started a child and a grandchild"
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in found) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not [pid for pid in found if running(pid)], "a process of the tree survived"
    assert (await engine.log(node))["content"].count("fusionpipe: timed out after 2s\n") == 2
    graph = await engine.service.pipelines.graph(pipeline["id"])
    assert graph["nodes"][0]["status"] == "failed"


async def test_retries_record_every_attempt_and_keep_data(engine):
    pipeline = await engine.pipeline()
    node = await engine.node(pipeline, "flaky")
    await engine.set_parameters(node, "retries: 2\nretry_delay: 1s\n")
    # A checkpoint in data/: each attempt sees what the failed one left there.
    write_code(
        node,
        """
        from pathlib import Path
        count = Path("../data/count")
        n = int(count.read_text()) + 1 if count.exists() else 1
        count.write_text(str(n))
        print(f"attempt number {n}")
        raise SystemExit(0 if n == 3 else 5)
        """,
    )
    finished = await engine.run(pipeline)
    entry = finished["nodes"][0]
    assert finished["status"] == "completed" and entry["status"] == "completed"
    assert (entry["attempt"], entry["attempts"], entry["exit_code"]) == (3, 3, 0)
    tries = entry["tries"]
    assert [(t["attempt"], t["exit_code"], t["reason"]) for t in tries] == [
        (1, 5, "exit code 5"),
        (2, 5, "exit code 5"),
        (3, 0, "completed"),
    ]
    assert all(t["backend"] == "local" and t["duration"] >= 0 for t in tries)
    assert tries[1]["started_at"] >= tries[0]["finished_at"]
    assert entry["duration"] >= 2, "the node's duration counts both pauses of 1 s"
    assert (Path(node["folder"]) / "data" / "count").read_text() == "3"
    content = (await engine.log(node))["content"]
    for n in (1, 2, 3):
        assert f"attempt number {n}" in content
    assert "fusionpipe: exit code 5\nfusionpipe: trying again in 1s" in content
    assert "attempt 2 of 3" in content and "attempt 3 of 3" in content
    page = await engine.service.history.page(pipeline["id"], limit=50, offset=0, status=None)
    listed = page["runs"][0]["nodes"][0]
    assert (listed["attempt"], listed["attempts"]) == (3, 3)


async def test_a_kill_during_the_pause_before_a_retry_ends_the_node(engine):
    pipeline = await engine.pipeline()
    node = await engine.node(pipeline, "failing")
    await engine.set_parameters(node, "retries: 3\nretry_delay: 10m\n")
    write_code(node, "raise SystemExit(1)\n")
    started = await engine.start(pipeline)
    content = ""
    deadline = time.monotonic() + 30
    while "trying again in 10m" not in content and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        content = await engine.log_text(node)
    killed = await engine.kill(pipeline, node)
    assert killed == {"node_id": node["id"], "killed": True}
    finished = await engine.wait_run(started["id"], timeout=10)
    entry = finished["nodes"][0]
    assert entry["status"] == "failed" and entry["attempt"] == 1, entry
    assert entry["reason"].startswith("killed by ")
    assert entry["reason"].endswith(" before attempt 2 (attempt 1: exit code 1)")


# -- runs left behind ------------------------------------------------------------------------


async def test_nodes_left_running_by_a_dead_process_are_failed_on_start(engine, database_url):
    pipeline = await engine.pipeline()
    a, b = await engine.node(pipeline, "a"), await engine.node(pipeline, "b")
    service = engine.service
    dead = 2**22 + 4321
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE nodes SET status = 'running' WHERE id = ANY(%s)", ([a["id"], b["id"]],)
        )
        conn.execute(
            "INSERT INTO runs (id, pipeline_id, requested_by, scope, status, executor) "
            "VALUES ('r_old', %s, 'x', 'pipeline', 'running', %s)",
            (pipeline["id"], f"{service.runs.executor.split(':')[0]}:{dead}"),
        )
        conn.execute(
            "INSERT INTO run_nodes (run_id, node_id, status, host, pid) "
            "VALUES ('r_old', %s, 'running', %s, %s)",
            (a["id"], service.runs.executor.split(":")[0], dead),
        )
    failed = await service.runs.reconcile()
    assert set(failed) == {a["id"], b["id"]}
    assert await engine.statuses(pipeline) == {"a": "failed", "b": "failed"}
    logs = list((Path(a["folder"]) / "logs").glob("*.log"))
    assert logs and "is gone" in logs[0].read_text()
    assert (await engine.run_json("r_old"))["status"] == "failed"
