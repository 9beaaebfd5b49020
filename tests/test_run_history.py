"""The run history the panel pages through, and a run's progress with its estimate of time left."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import psycopg
from test_nodes_api import add_node, setup_pipeline
from test_runs_api import run, wait_run, write_code

from fusionpipe_server.models import Run, RunNode
from fusionpipe_server.service.runs.history import progress

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def node(node_id, status, started=None):
    return RunNode(node_id, status, None, None, None, started, None, None, "")


def test_progress_counts_finished_nodes_and_shares_the_work_left_among_workers():
    started = NOW - timedelta(seconds=30)
    a_run = Run("r_1", "p_1", "ana", "pipeline", "running", started, started, None)
    a_run.nodes = [
        node("a", "completed"),
        node("b", "skipped"),
        node("c", "running", NOW - timedelta(seconds=4)),
        node("d", "pending"),
        node("e", "pending"),
    ]
    before = {"c": 10.0, "d": 20.0, "e": 16.0}
    shown = progress(a_run, before, [], NOW, parallel=2)
    assert (shown.done, shown.total, shown.elapsed_s) == (2, 5, 30.0)
    # Independent nodes: the work left (6 s of c, then d and e) shared by two workers.
    assert shown.eta_s == (6.0 + 20.0 + 16.0) / 2
    # A chain c -> d -> e cannot be shared: it takes as long as its links together.
    chain = [("a", "c"), ("c", "d"), ("d", "e")]
    assert progress(a_run, before, chain, NOW, parallel=2).eta_s == 6.0 + 20.0 + 16.0
    # One node longer than the others' share sets the pace on its own.
    assert progress(a_run, {**before, "d": 60.0}, [], NOW, parallel=2).eta_s == 60.0
    # A node that never completed before leaves nothing to base an estimate on.
    assert progress(a_run, {"c": 10.0, "d": 20.0}, [], NOW, parallel=2).eta_s is None
    # A node running longer than it used to counts as nearly done, never as negative time.
    assert progress(a_run, {"c": 1.0, "d": 2.0, "e": 2.0}, [], NOW, parallel=1).eta_s == 4.0
    a_run.status, a_run.finished_at = "completed", NOW - timedelta(seconds=10)
    a_run.nodes = [node("a", "completed"), node("b", "failed")]
    ended = progress(a_run, {}, [], NOW, parallel=2)
    assert (ended.done, ended.total, ended.elapsed_s, ended.eta_s) == (2, 2, 20.0, 0.0)


def insert_runs(database_url, pipeline_id, node_id, count):
    """``count`` finished runs, one a minute, every third one failed; newest last."""
    start = datetime.now(timezone.utc) - timedelta(days=1)
    with psycopg.connect(database_url) as conn:
        for index in range(count):
            created = start + timedelta(minutes=index)
            status = "failed" if index % 3 == 0 else "completed"
            conn.execute(
                "INSERT INTO runs (id, pipeline_id, requested_by, scope, status, created_at, "
                "started_at, finished_at) VALUES (%s, %s, 'ana', 'pipeline', %s, %s, %s, %s)",
                (f"r_{index:04d}", pipeline_id, status, created, created, created),
            )
            conn.execute(
                "INSERT INTO run_nodes (run_id, node_id, status) VALUES (%s, %s, %s)",
                (f"r_{index:04d}", node_id, status),
            )


async def test_runs_are_paged_newest_first_and_filtered_by_outcome(api, database_url):
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    insert_runs(database_url, pipeline["id"], a["id"], 130)
    path = f"pipelines/{pipeline['id']}/runs"

    status, first = await api("GET", f"{path}?limit=50")
    assert status == 200
    assert (first["total"], first["limit"], first["offset"]) == (130, 50, 0)
    assert [r["id"] for r in first["runs"]] == [f"r_{i:04d}" for i in range(129, 79, -1)]
    _, last = await api("GET", f"{path}?limit=50&offset=100")
    assert [r["id"] for r in last["runs"]] == [f"r_{i:04d}" for i in range(29, -1, -1)]
    assert last["runs"][-1]["nodes"][0]["node_id"] == a["id"]

    _, failed = await api("GET", f"{path}?status=failed&limit=10&offset=5")
    assert failed["total"] == 44
    assert all(r["status"] == "failed" for r in failed["runs"])
    assert failed["runs"][0]["id"] == "r_0114"

    for query in ("status=broken", "offset=-1", "limit=0", "limit=501", "offset=x"):
        status, answer = await api("GET", f"{path}?{query}")
        assert status == 400, query
        assert query.split("=")[0] in answer["message"]
    assert (await api("GET", "pipelines/p_missing/runs"))[0] == 404


async def test_a_running_run_reports_progress_and_time_left_from_earlier_runs(api):
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    write_code(a, "import time\ntime.sleep(1.5)\n")
    first = await run(api, pipeline)
    assert first["status"] == "completed"
    # The panel tells whoever started a run when it ends: it asks who it is the same way.
    assert (await api("GET", "whoami"))[1] == {"username": first["requested_by"], "admin": False}
    _, finished = await api("GET", f"runs/{first['id']}")
    assert finished["progress"]["done"] == finished["progress"]["total"] == 1
    assert finished["progress"]["eta_s"] == 0
    assert finished["progress"]["elapsed_s"] >= 1.5

    await api(
        "POST", f"pipelines/{pipeline['id']}/status", {"node_ids": [a["id"]], "status": "staledata"}
    )
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs")
    assert status == 202
    deadline = time.monotonic() + 30
    while True:
        _, current = await api("GET", f"runs/{started['id']}")
        if current["nodes"][0]["status"] == "running" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    shown = current["progress"]
    assert (shown["done"], shown["total"]) == (0, 1)
    assert shown["eta_s"] is not None and 0 <= shown["eta_s"] <= 1.6
    await wait_run(api, started["id"])
