"""Mapped nodes on the run engine (the ``engine`` fixture): each form of ``map:``, items run
as real processes, one by one and in parallel, each with its folder, log, status, fingerprint
and metrics; failure isolation and failed-items runs; gather and along; per-item staleness and
the cache. The REST side (pages, 400s, OpenAPI) is in test_items_api.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_runs_api import write_code

SLOPES = "map:\n  slope: [0.5, 1.0, 2.0]\n"
MAKE = """
import json, fusionpipe
slope = fusionpipe.item()["slope"]
(fusionpipe.data_dir() / "line.json").write_text(json.dumps([slope * x for x in range(3)]))
fusionpipe.metrics(chi2=slope * 2, slope=slope)
"""
GATHER = """
import json, fusionpipe
items = fusionpipe.parent("01").items()
total = sum(json.loads((i.data_dir / "line.json").read_text())[2] for i in items)
(fusionpipe.data_dir() / "total.txt").write_text(str(total))
"""


@pytest.fixture
def engine_settings():
    return {"max_parallel_nodes": 2}


def folder(node) -> Path:
    return Path(node["folder"])


async def mapped(engine, parameters=SLOPES, code=MAKE):
    pipeline = await engine.pipeline()
    node = await engine.node(pipeline, "make")
    await engine.set_parameters(node, parameters)
    write_code(node, code)
    return pipeline, node


async def test_a_list_runs_one_process_per_item_with_its_own_folder_log_and_metrics(engine):
    pipeline, node = await mapped(engine)
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed", finished
    statuses = await engine.item_statuses(node)
    assert statuses == {"slope=0.5": "completed", "slope=1.0": "completed", "slope=2.0": "completed"}
    for slope in ("0.5", "1.0", "2.0"):
        out = json.loads((folder(node) / "data" / f"slope={slope}" / "line.json").read_text())
        assert out[1] == float(slope)
        logs = list((folder(node) / "logs" / "items" / f"slope={slope}").glob("*.log"))
        assert len(logs) == 1
    graph = await engine.graph_nodes(pipeline)
    assert graph["make"]["status"] == "completed"
    assert graph["make"]["items"] == {
        "total": 3, "ready": 0, "running": 0, "completed": 3, "failed": 0, "staledata": 0
    }
    page = await engine.items(node)
    assert [i["metrics"]["chi2"] for i in page["items"]] == [1.0, 2.0, 4.0]
    manifest = json.loads((folder(node) / "items.json").read_text())
    assert [i["id"] for i in manifest["items"]] == ["slope=0.5", "slope=1.0", "slope=2.0"]


async def test_a_new_value_runs_alone_and_then_what_gathers_it(engine):
    pipeline, node = await mapped(engine)
    gather = await engine.node(pipeline, "gather")
    await engine.connect(pipeline, node, gather)
    write_code(gather, GATHER)
    assert (await engine.run(pipeline))["status"] == "completed"
    assert (folder(gather) / "data" / "total.txt").read_text() == "7.0"
    first = (await engine.items(node))["items"]
    await engine.set_parameters(node, "map:\n  slope: [0.5, 1.0, 2.0, 4.0]\n")
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed", finished
    after = {i["id"]: i for i in (await engine.items(node))["items"]}
    assert [i["run_id"] for i in first] == [after[i["id"]]["run_id"] for i in first]
    assert after["slope=4.0"]["run_id"] == finished["id"]
    assert (folder(gather) / "data" / "total.txt").read_text() == "15.0"


async def test_a_code_edit_makes_every_item_stale_with_its_reason(engine):
    pipeline, node = await mapped(engine)
    await engine.run(pipeline)
    write_code(node, MAKE + "\n# changed\n")
    await engine.service.staleness.check_pipeline(pipeline["id"])
    page = await engine.items(node)
    assert {i["status"] for i in page["items"]} == {"staledata"}
    assert any(r["kind"] == "code" for r in page["items"][0]["stale_reasons"])
    graph = await engine.graph_nodes(pipeline)
    assert graph["make"]["items"]["staledata"] == 3


async def test_one_failing_item_never_stops_the_others_and_runs_again_alone(engine):
    code = MAKE + "\nimport sys\nif slope == 1.0 and not (fusionpipe.code_dir() / 'fixed').exists(): sys.exit(3)\n"
    pipeline, node = await mapped(engine, code=code)
    finished = await engine.run(pipeline)
    assert finished["status"] == "failed"
    statuses = await engine.item_statuses(node)
    assert statuses == {"slope=0.5": "completed", "slope=1.0": "failed", "slope=2.0": "completed"}
    graph = await engine.graph_nodes(pipeline)
    assert graph["make"]["status"] == "failed"
    assert graph["make"]["items"]["failed"] == 1
    log = await engine.log(node)
    assert "1 of 3 items failed" in log["content"]
    failed = (await engine.items(node, status="failed"))["items"]
    assert failed[0]["exit_code"] == 3
    (folder(node) / "code" / "fixed").write_text("")
    before = {i["id"]: i["run_id"] for i in (await engine.items(node))["items"]}
    retry = await engine.run(pipeline, items={node["id"]: "failed"})
    assert retry["status"] == "completed", retry
    after = {i["id"]: i["run_id"] for i in (await engine.items(node))["items"]}
    assert after["slope=1.0"] == retry["id"]
    assert after["slope=0.5"] == before["slope=0.5"]
