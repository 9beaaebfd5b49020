"""Runs racing each other and failing in odd places, with real processes: a node executes
once per fingerprint whatever number of runs ask for it, and nothing is left ``running``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_nodes_api import add_node, connect, setup_pipeline
from test_runs_api import wait_run, write_code
from test_staleness import wait_for

from fusionpipe_server.runners.local import LocalRunner

COUNTING = """
import time
from pathlib import Path
with open("../executions.txt", "a") as out:
    out.write("x")
time.sleep(0.5)
{end}
"""


async def start(api, pipeline, **body):
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", body)
    assert status == 202, started
    return started


def executions(node):
    path = Path(node["folder"]) / "executions.txt"
    return len(path.read_text()) if path.exists() else 0


async def test_two_runs_at_once_execute_each_node_once(api):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    write_code(a, COUNTING.format(end="Path('../data/x').write_text('1')"))
    write_code(b, COUNTING.format(end=""))
    first, second = await asyncio.gather(start(api, pipeline), start(api, pipeline))
    runs = await asyncio.gather(wait_run(api, first["id"]), wait_run(api, second["id"]))
    assert [r["status"] for r in runs] == ["completed", "completed"], runs
    assert executions(a) == 1 and executions(b) == 1
    reasons = {n["reason"] for r in runs for n in r["nodes"] if n["status"] == "skipped"}
    assert any(reason.startswith("up to date: made by run") for reason in reasons), runs


async def test_a_failing_node_asked_for_twice_fails_once_in_both_runs(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "broken")
    write_code(node, COUNTING.format(end="raise SystemExit(3)"))
    first, second = await asyncio.gather(start(api, pipeline), start(api, pipeline))
    runs = await asyncio.gather(wait_run(api, first["id"]), wait_run(api, second["id"]))
    assert executions(node) == 1
    entries = [r["nodes"][0] for r in runs]
    assert {e["status"] for e in entries} == {"failed"}
    assert any(e["reason"].startswith("failed in run") for e in entries), entries


# How often each interleaving is tried: the bug it guards against showed once in a few tries.
TRIES = 20
# Code of its own in every node: the output cache would restore a node whose code another
# node's run already made.
QUICK = """# {name}
with open("../executions.txt", "a") as out:
    out.write("x")
{end}
"""


async def fresh_pipeline(api, name, failing=()):
    """A pipeline of new nodes ``a -> b -> c`` plus independent ``ok`` and ``bad``; the nodes
    named in ``failing`` exit 3."""
    pipeline = await setup_pipeline(api, name)
    nodes = {}
    for tag in ("a", "b", "c", "ok", "bad"):
        nodes[tag] = await add_node(api, pipeline, tag)
        end = "raise SystemExit(3)" if tag in failing or tag == "bad" else ""
        write_code(nodes[tag], QUICK.format(name=f"{name}/{tag}", end=end))
    await connect(api, pipeline, nodes["a"], nodes["b"])
    await connect(api, pipeline, nodes["b"], nodes["c"])
    return pipeline, nodes


async def race(api, pipeline, *bodies):
    """Start one run per body at the same moment and wait for all of them."""
    started = await asyncio.gather(*(start(api, pipeline, **body) for body in bodies))
    return await asyncio.gather(*(wait_run(api, s["id"]) for s in started))


def assert_each_ran_once(nodes, runs, *, never=()):
    counts = {tag: executions(node) for tag, node in nodes.items()}
    expected = {tag: 0 if tag in never else 1 for tag in nodes}
    tags = {node["id"]: tag for tag, node in nodes.items()}
    seen = [(tags[n["node_id"]], n["status"], n["reason"]) for r in runs for n in r["nodes"]]
    assert counts == expected, (counts, seen)


async def test_two_runs_on_independent_nodes_execute_each_once(api):
    for i in range(TRIES):
        pipeline, nodes = await fresh_pipeline(api, f"independent-{i}")
        ids = [nodes["ok"]["id"], nodes["bad"]["id"]]
        runs = await race(api, pipeline, {"node_ids": ids}, {"node_ids": ids[::-1]})
        assert_each_ran_once(nodes, runs, never=("a", "b", "c"))
        for run in runs:
            by_node = {n["node_id"]: n for n in run["nodes"]}
            assert by_node[nodes["bad"]["id"]]["status"] == "failed", run
            assert by_node[nodes["ok"]["id"]]["status"] in ("completed", "skipped"), run


async def test_two_runs_of_a_chain_execute_each_node_once(api):
    for i in range(TRIES):
        pipeline, nodes = await fresh_pipeline(api, f"chain-{i}", failing=("c",))
        until = {"until": nodes["c"]["id"]}
        runs = await race(api, pipeline, until, until)
        assert_each_ran_once(nodes, runs, never=("ok", "bad"))
        assert [r["status"] for r in runs] == ["failed", "failed"], runs
        for run in runs:
            (c,) = [n for n in run["nodes"] if n["node_id"] == nodes["c"]["id"]]
            assert c["status"] == "failed" and c["exit_code"] == 3, run


async def test_a_whole_run_beside_one_node_runs_executes_each_node_once(api):
    for i in range(TRIES):
        pipeline, nodes = await fresh_pipeline(api, f"whole-{i}")
        one = [{"node_ids": [nodes[tag]["id"]]} for tag in ("a", "b", "ok", "bad")]
        runs = await race(api, pipeline, {}, *one)
        assert_each_ran_once(nodes, runs)


async def test_a_kill_is_not_a_result_another_run_takes(api):
    """Killing the node in one run says nothing of the node: a run that waited for it runs it."""
    pipeline = await setup_pipeline(api, "killed-once")
    node = await add_node(api, pipeline, "slow")
    write_code(
        node,
        """
import time
from pathlib import Path
with open("../executions.txt", "a") as out:
    out.write("x")
if len(Path("../executions.txt").read_text()) == 1:
    time.sleep(30)  # the first execution waits to be killed
""",
    )
    first, second = await asyncio.gather(start(api, pipeline), start(api, pipeline))

    async def started():
        # Its process, not only its claim: a kill before the start is another story (the
        # node then never starts, and the waiting run's execution would be the first).
        return executions(node) == 1

    await wait_for(started, timeout=30, what="the node's process starting")
    status, _ = await api("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill")
    assert status == 202
    runs = await asyncio.gather(wait_run(api, first["id"]), wait_run(api, second["id"]))
    entries = sorted((r["nodes"][0]["status"], r["nodes"][0]["reason"]) for r in runs)
    assert entries[0][0] == "completed" and entries[1][0] == "failed", entries
    assert entries[1][1].startswith("killed by"), entries
    assert executions(node) == 2


async def test_an_error_after_the_claim_fails_the_node_with_its_reason(api, monkeypatch):
    async def broken_start(self, job):
        raise RuntimeError("the backend fell over")

    monkeypatch.setattr(LocalRunner, "start", broken_start)
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    started = await start(api, pipeline)
    finished = await wait_run(api, started["id"])
    assert finished["status"] == "failed"
    entry = finished["nodes"][0]
    assert "the backend fell over" in entry["reason"]
    _, body = await api("GET", f"nodes/{node['id']}")
    assert body["status"] == "failed", "never left running"
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert "the backend fell over" in log["content"]
    status, body = await api("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill")
    assert status == 409 and "not running" in body["message"]
