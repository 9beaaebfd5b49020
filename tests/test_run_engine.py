"""The run engine on its own (the ``engine`` fixture, see engine.py): what runs, in which order,
what is skipped and why, what runs at once, CPU slots and GPUs (failures, retries, time limits
and runs left behind: test_run_engine_failures.py). Nodes are real processes (the real
LocalRunner) unless a test injects the held runner to decide itself when each node ends.

The REST layer of runs (202s, 409s, kills and cancels asked over HTTP, history pages, logs) is
tested in test_runs_api.py and test_scheduling_runs.py with a real server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from engine import HeldRunner, outcome
from test_nodes_api import set_status_in_db
from test_runs_api import write_code

CHAIN_A = """
from pathlib import Path
import fusionpipe
value = fusionpipe.parameters().get("value", 1)
Path("../data/out.txt").write_text(str(value))
"""
CHAIN_B = """
from pathlib import Path
import fusionpipe
text = (fusionpipe.parent("01").data_dir / "out.txt").read_text()
Path("../data/out.txt").write_text(text + "!")
"""


@pytest.fixture
def engine_settings():
    # As if the machine had two GPUs: local runs hand them out without touching them.
    return {"max_parallel_nodes": 2, "local_gpus": ("0", "1")}


def logs_of(node, pattern="*.log"):
    return set((Path(node["folder"]) / "logs").glob(pattern))


async def chain(engine):
    """a -> b, both run once."""
    pipeline = await engine.pipeline()
    a, b = await engine.node(pipeline, "a"), await engine.node(pipeline, "b")
    await engine.connect(pipeline, a, b)
    write_code(a, CHAIN_A)
    write_code(b, CHAIN_B)
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed", finished
    return pipeline, a, b


async def checked(engine, pipeline):
    """The graph after a check of every node against its files (what a run does first)."""
    await engine.service.staleness.check_pipeline(pipeline["id"])
    return await engine.graph_nodes(pipeline)


# -- order, scope and skipping ---------------------------------------------------------------


async def test_a_pipeline_runs_in_dag_order_and_children_read_parent_outputs(engine):
    pipeline = await engine.pipeline()
    a, b = await engine.node(pipeline, "a"), await engine.node(pipeline, "b")
    await engine.connect(pipeline, a, b)
    write_code(
        a,
        """
        from pathlib import Path
        print("hello from a")
        Path("../data/value.txt").write_text("41")
    """,
    )
    write_code(
        b,
        f"""
        from pathlib import Path
        value = int(Path({str(Path(a["folder"]) / "data" / "value.txt")!r}).read_text())
        Path("../data/value.txt").write_text(str(value + 1))
    """,
    )
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed"
    assert outcome(finished) == {a["id"]: "completed", b["id"]: "completed"}
    assert (Path(b["folder"]) / "data" / "value.txt").read_text() == "42"
    assert await engine.statuses(pipeline) == {"a": "completed", "b": "completed"}
    nodes = {n["node_id"]: n for n in finished["nodes"]}
    assert nodes[a["id"]]["finished_at"] <= nodes[b["id"]]["started_at"]
    assert nodes[a["id"]]["exit_code"] == 0 and nodes[a["id"]]["duration"] >= 0

    log = await engine.log(a)
    assert "hello from a" in log["content"]
    assert log["run_id"] == finished["id"]

    again = await engine.run(pipeline)
    assert outcome(again) == {a["id"]: "skipped", b["id"]: "skipped"}, "completed nodes don't rerun"


async def test_a_failure_stops_its_descendants_but_not_independent_branches(engine):
    pipeline = await engine.pipeline()
    bad, child, other = [await engine.node(pipeline, t) for t in ("bad", "child", "other")]
    await engine.connect(pipeline, bad, child)
    write_code(bad, "raise SystemExit(3)\n")
    finished = await engine.run(pipeline)
    assert finished["status"] == "failed"
    result = outcome(finished)
    assert result[bad["id"]] == "failed" and result[other["id"]] == "completed"
    assert result[child["id"]] == "cancelled"
    assert await engine.statuses(pipeline) == {
        "bad": "failed",
        "child": "ready",
        "other": "completed",
    }
    failed = next(n for n in finished["nodes"] if n["node_id"] == bad["id"])
    assert (failed["exit_code"], failed["reason"]) == (3, "exit code 3")


async def test_until_runs_a_node_and_its_ancestors_only(engine):
    pipeline = await engine.pipeline()
    a, b, c = [await engine.node(pipeline, t) for t in "abc"]
    await engine.connect(pipeline, a, b)
    await engine.connect(pipeline, b, c)
    finished = await engine.run(pipeline, until=b["id"])
    assert set(outcome(finished)) == {a["id"], b["id"]}
    assert await engine.statuses(pipeline) == {"a": "completed", "b": "completed", "c": "ready"}


async def test_selected_nodes_wait_for_parents_outside_the_selection(engine):
    pipeline = await engine.pipeline()
    a, b = await engine.node(pipeline, "a"), await engine.node(pipeline, "b")
    await engine.connect(pipeline, a, b)
    finished = await engine.run(pipeline, node_ids=[b["id"]])
    node = finished["nodes"][0]
    assert node["status"] == "skipped" and "'a'" not in node["reason"] and "a" in node["reason"]
    assert await engine.statuses(pipeline) == {"a": "ready", "b": "ready"}


async def test_stale_and_failed_nodes_rerun_on_an_emptied_data_folder(engine, database_url):
    pipeline = await engine.pipeline()
    a = await engine.node(pipeline, "a")
    (Path(a["folder"]) / "data" / "old.txt").write_text("old")
    write_code(a, "import os\nprint(sorted(os.listdir('../data')))\n")
    set_status_in_db(database_url, {a["id"]: "staledata"})
    await engine.run(pipeline)
    assert "[]" in (await engine.log(a))["content"]


async def test_early_cutoff_a_rerun_with_identical_outputs_does_not_run_children(engine):
    pipeline, a, b = await chain(engine)
    b_logs = logs_of(b)
    path = Path(a["folder"]) / "code" / "main.py"
    path.write_text(path.read_text() + "\n# a comment: same outputs\n")
    finished = await engine.run(pipeline)
    by_node = {n["node_id"]: n for n in finished["nodes"]}
    assert by_node[a["id"]]["status"] == "completed" and by_node[a["id"]]["exit_code"] == 0
    assert by_node[b["id"]]["status"] == "skipped", by_node[b["id"]]
    assert by_node[b["id"]]["reason"] == "up to date"
    assert logs_of(b) == b_logs, "b must not have run"
    nodes = await checked(engine, pipeline)
    assert nodes["b"]["status"] == "completed" and nodes["b"]["stale_reasons"] == []


async def test_a_run_with_nothing_changed_starts_no_process(engine):
    pipeline, a, b = await chain(engine)
    logs = {n["id"]: logs_of(n, "*") for n in (a, b)}
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed"
    assert {n["status"] for n in finished["nodes"]} == {"skipped"}
    assert {n["reason"] for n in finished["nodes"]} == {"up to date"}
    for n in (a, b):
        assert logs_of(n, "*") == logs[n["id"]]


async def test_outputs_come_back_from_the_cache_when_an_edit_is_undone(engine):
    pipeline, a, b = await chain(engine)
    first_run = (await engine.service.nodes.get(a["id"]))["made_by"]["run_id"]
    await engine.set_parameters(a, "value: 2\n")
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed"
    assert (Path(b["folder"]) / "data" / "out.txt").read_text() == "2!"
    await engine.set_parameters(a, "")
    finished = await engine.run(pipeline)
    by_node = {n["node_id"]: n for n in finished["nodes"]}
    assert by_node[a["id"]]["reason"] == f"restored from run {first_run}", by_node[a["id"]]
    assert by_node[a["id"]]["exit_code"] is None, "restored, not run"
    assert (Path(a["folder"]) / "data" / "out.txt").read_text() == "1"
    assert (Path(b["folder"]) / "data" / "out.txt").read_text() == "1!"
    made_by = (await engine.service.nodes.get(a["id"]))["made_by"]
    assert made_by["restored_from"] == first_run and made_by["run_id"] == finished["id"]


async def test_a_node_that_opts_out_is_never_cached(engine):
    pipeline, a, _ = await chain(engine)
    await engine.set_parameters(a, "cache: false\nvalue: 2\n")
    await engine.run(pipeline)
    await engine.set_parameters(a, "cache: false\n")
    finished = await engine.run(pipeline)
    by_node = {n["node_id"]: n for n in finished["nodes"]}
    assert by_node[a["id"]]["exit_code"] == 0


async def test_scheduling_keys_leave_a_node_up_to_date(engine):
    pipeline = await engine.pipeline()
    node = await engine.node(pipeline, "n")
    await engine.run(pipeline)
    await engine.set_parameters(
        node, "run_mode: local\ntimeout: 1h\nretries: 3\nresources:\n  cpus: 1\n"
    )
    graph = await engine.service.pipelines.graph(pipeline["id"])
    assert graph["nodes"][0]["status"] == "completed", graph["nodes"][0]["stale_reasons"]
    again = await engine.run(pipeline)
    assert again["nodes"][0]["status"] == "skipped"


# -- at once, one after the other ------------------------------------------------------------


@pytest.mark.parametrize("engine_runner", [HeldRunner()], ids=["held"])
async def test_independent_nodes_run_in_parallel(engine, engine_runner):
    pipeline = await engine.pipeline()
    for i in range(2):
        await engine.node(pipeline, f"n{i}")
    started = await engine.start(pipeline)
    # Both are running at once, as the runner and as the run records them (a start is
    # recorded just after the runner's start returns); only then may either end.
    executions = await engine_runner.wait_running(2)
    deadline = time.monotonic() + 10
    while (
        sum(n["status"] == "running" for n in (await engine.run_json(started["id"]))["nodes"]) < 2
    ):
        assert time.monotonic() < deadline, "the run never recorded both nodes running"
        await asyncio.sleep(0.01)
    for execution in executions:
        execution.finish(0)
    finished = await engine.wait_run(started["id"])
    assert finished["status"] == "completed"
    first, second = sorted(finished["nodes"], key=lambda n: n["started_at"])
    assert second["started_at"] < first["finished_at"], "the two nodes overlapped"


async def test_a_local_run_counts_cpus_and_hands_each_gpu_to_one_node_at_a_time(engine):
    pipeline = await engine.pipeline()
    # Each node's code differs (its tag): nodes made of the same content would share outputs
    # through the output cache instead of running.
    report = """
        # NODE
        import os, time
        from pathlib import Path
        start = time.time()
        time.sleep(0.6)
        Path("../data/run.txt").write_text(
            f"{start} {time.time()} {os.environ['CUDA_VISIBLE_DEVICES']}"
        )
    """
    gpu_nodes = [await engine.node(pipeline, f"gpu{i}") for i in range(4)]
    for node in gpu_nodes:
        await engine.set_parameters(node, "resources:\n  gpus: 1\n")
        write_code(node, report.replace("NODE", node["tag"]))
    plain = await engine.node(pipeline, "plain")
    write_code(plain, report.replace("NODE", plain["tag"]))
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed"

    def spans(nodes):
        for node in nodes:
            begin, end, gpus = (Path(node["folder"]) / "data" / "run.txt").read_text().split(" ")
            yield float(begin), float(end), gpus

    seen = list(spans(gpu_nodes))
    assert {g for _, _, g in seen} <= {"0", "1"}, "each holds one of the two GPUs"
    together = [
        (g1, g2)
        for i, (b1, e1, g1) in enumerate(seen)
        for b2, e2, g2 in seen[i + 1 :]
        if b1 < e2 and b2 < e1
    ]
    # Five nodes on two CPU slots: at least two GPU nodes ran at the same time.
    assert together, "no two GPU nodes ran at once: the test proves nothing"
    assert all(g1 != g2 for g1, g2 in together), "two nodes held the same GPU at once"
    assert next(spans([plain]))[2] == "", "a node that asked for no GPU sees none"

    # Two CPU slots: two nodes of two CPUs each run one after the other.
    wide = [await engine.node(pipeline, f"wide{i}") for i in range(2)]
    for node in wide:
        await engine.set_parameters(node, "resources:\n  cpus: 2\n")
        write_code(node, report.replace("NODE", node["tag"]))
    assert (await engine.run(pipeline, node_ids=[n["id"] for n in wide]))["status"] == "completed"
    (_, first_end, _), (second_begin, _, _) = sorted(spans(wide))
    assert second_begin >= first_end, "2-CPU nodes overlapped on 2 CPU slots"


async def test_an_impossible_local_request_fails_at_once(engine):
    pipeline = await engine.pipeline()
    gpus = await engine.node(pipeline, "gpus")
    cpus = await engine.node(pipeline, "cpus")
    ray_only = await engine.node(pipeline, "ray-only")
    memory = await engine.node(pipeline, "memory")
    by_hand = await engine.node(pipeline, "by-hand")
    await engine.set_parameters(gpus, "resources:\n  gpus: 3\n")
    await engine.set_parameters(cpus, "resources:\n  cpus: 64\n")
    await engine.set_parameters(ray_only, "resources:\n  fast_disk: 1\n")
    await engine.set_parameters(memory, "resources:\n  memory: 100TiB\n")
    # Edited in a terminal, past the API's check.
    (Path(by_hand["folder"]) / "code" / "node_parameters.yaml").write_text("retries: often\n")
    began = time.monotonic()
    finished = await engine.wait_run((await engine.start(pipeline))["id"], timeout=20)
    assert time.monotonic() - began < 5
    reasons = {n["node_id"]: (n["status"], n["reason"], n["tries"]) for n in finished["nodes"]}
    assert reasons[gpus["id"]] == (
        "failed",
        "cannot run: it asks for 3 GPUs and local runs have 2 GPUs (FusionpipeApp.local_gpus)",
        [],
    )
    assert reasons[cpus["id"]][1] == (
        "cannot run: it asks for 64 CPUs and local runs have 2 CPU slots "
        "(FusionpipeApp.max_parallel_nodes; fusionpipe run --parallel)"
    )
    assert "Ray resource 'fast_disk'" in reasons[ray_only["id"]][1]
    assert reasons[memory["id"]][1].startswith(
        "cannot run: it asks for 102,400.0 GiB of memory and this machine has"
    )
    assert reasons[by_hand["id"]][:2] == (
        "failed",
        "cannot run: node_parameters.yaml: retries must be a whole number from 0 to 1000, "
        "not 'often'",
    )
    assert "cannot run: it asks for 3 GPUs" in (await engine.log(gpus))["content"]
