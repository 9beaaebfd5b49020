"""Mapped nodes over REST, on a real server with real node processes: the graph's counts, the
items page, one item's log and outputs, the metrics of the compare view by item and by run,
failed-items runs, and every refusal with its 4xx. The engine's side is in
test_mapped_nodes.py."""

from __future__ import annotations

import pytest
from test_nodes_api import add_node, setup_pipeline
from test_runs_api import wait_run, write_code

FLAKY = """
import sys, fusionpipe
slope = fusionpipe.item()["slope"]
(fusionpipe.data_dir() / "out.txt").write_text(str(slope))
print("item", fusionpipe.item_id())
fusionpipe.metrics(chi2=slope / 2)
if slope == 2 and not (fusionpipe.code_dir() / "fixed").exists():
    sys.exit(4)
"""


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["FusionpipeApp"]["max_parallel_nodes"] = 2
    return jp_server_config


async def mapped_node(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "make")
    status, saved = await api(
        "PUT", f"nodes/{node['id']}/parameters", {"content": "map:\n  slope: [1, 2, 3]\n"}
    )
    assert status == 200, saved
    write_code(node, FLAKY)
    return pipeline, node


async def run(api, pipeline, **body):
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", body)
    assert status == 202, started
    return await wait_run(api, started["id"])


async def test_items_over_rest_from_counts_to_a_failed_items_run(api):
    pipeline, node = await mapped_node(api)
    first = await run(api, pipeline)
    assert first["status"] == "failed"
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    (shown,) = graph["nodes"]
    assert shown["status"] == "failed"
    assert shown["items"] == {
        "total": 3,
        "ready": 0,
        "running": 0,
        "completed": 2,
        "failed": 1,
        "staledata": 0,
        "queued": 0,
    }
    status, page = await api("GET", f"nodes/{node['id']}/items?status=failed")
    assert status == 200
    assert page["total"] == 1
    (failed,) = page["items"]
    assert failed["id"] == "slope=2" and failed["exit_code"] == 4
    assert failed["folder"] == "data/slope=2" and failed["duration"] > 0
    _, log = await api("GET", f"nodes/{node['id']}/log?item=slope%3D2")
    assert "item slope=2" in log["content"] and "exit code 4" in log["content"]
    _, outputs = await api("GET", f"nodes/{node['id']}/outputs?item=slope%3D1")
    assert [e["path"] for e in outputs["entries"]] == ["data/slope=1/out.txt"]
    _, metrics = await api("GET", f"nodes/{node['id']}/metrics")
    assert metrics["values"] == ["slope"] and metrics["metrics"] == ["chi2"]
    assert [r["metrics"]["chi2"] for r in metrics["rows"]] == [0.5, 1.0, 1.5]

    write_code(node, "", "fixed")
    retry = await run(api, pipeline, items={node["id"]: "failed"})
    assert retry["status"] == "completed", retry
    _, page = await api("GET", f"nodes/{node['id']}/items")
    assert {i["id"]: i["run_id"] for i in page["items"]} == {
        "slope=1": first["id"],
        "slope=2": retry["id"],
        "slope=3": first["id"],
    }
    _, by_run = await api("GET", f"nodes/{node['id']}/metrics?by=runs")
    assert [r["id"] for r in by_run["rows"]] == [retry["id"], first["id"]]
    assert by_run["rows"][0]["metrics"] == {"chi2": 1.0}
    # One item again, on request: it runs, the others do not.
    again = await run(api, pipeline, items={node["id"]: ["slope=3"]})
    assert again["status"] == "completed"


async def test_item_requests_that_cannot_be_met_get_a_4xx_naming_the_problem(api):
    pipeline, node = await mapped_node(api)
    write_code(node, "", "fixed")
    await run(api, pipeline)
    runs = f"pipelines/{pipeline['id']}/runs"
    cases = [
        ({"items": {node["id"]: "failed"}}, 400, "has no failed items"),
        ({"items": {node["id"]: ["slope=9"]}}, 400, "has no item slope=9"),
        ({"items": {node["id"]: []}}, 400, "items"),
        ({"items": {node["id"]: "all"}}, 400, "items"),
        ({"items": {"n_unknown": "failed"}}, 404, "n_unknown"),
    ]
    for body, code, words in cases:
        status, answer = await api("POST", runs, body)
        assert status == code, (body, answer)
        assert words in answer["message"], answer
    for path, code in [
        (f"nodes/{node['id']}/items?status=done", 400),
        (f"nodes/{node['id']}/items?limit=501", 400),
        ("nodes/n_unknown/items", 404),
        (f"nodes/{node['id']}/log?item=slope%3D9", 404),
        (f"nodes/{node['id']}/outputs?item=..", 404),
        (f"nodes/{node['id']}/outputs?item=a%2Fb", 400),
        (f"nodes/{node['id']}/metrics?by=weeks", 400),
    ]:
        status, answer = await api("GET", path)
        assert status == code, (path, answer)
        assert answer["message"], answer


async def test_a_bad_declaration_saved_over_rest_is_a_400_naming_map(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "make")
    status, answer = await api(
        "PUT", f"nodes/{node['id']}/parameters", {"content": "map: {along: '01'}\n"}
    )
    assert status == 400
    assert answer["message"] == "node_parameters.yaml: map along: there is no input in slot 01"


async def test_an_unmapped_node_has_no_items_and_records_its_metrics_per_run(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "plain")
    write_code(node, "import fusionpipe\nfusionpipe.metrics(loss=0.25, label='a')\n")
    first = await run(api, pipeline)
    assert first["status"] == "completed", first
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["nodes"][0]["items"] is None
    _, page = await api("GET", f"nodes/{node['id']}/items")
    assert page == {"items": [], "total": 0, "offset": 0, "limit": 100}
    _, by_run = await api("GET", f"nodes/{node['id']}/metrics?by=runs")
    assert by_run["rows"][0]["metrics"] == {"loss": 0.25, "label": "a"}
