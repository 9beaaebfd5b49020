"""Mapped nodes on the run engine (the ``engine`` fixture): each form of ``map:``, items run
as real processes, one by one and in parallel, each with its folder, log, status, fingerprint
and metrics; failure isolation and failed-items runs; gather and along; per-item staleness and
the cache. The REST side (pages, 400s, OpenAPI) is in test_items_api.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from test_runs_api import write_code

from fusionpipe_server.store import items as item_store

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
(fusionpipe.data_dir() / "chi2.txt").write_text(str(sum(i.metrics["chi2"] for i in items)))
"""

SOURCE = """
import fusionpipe
for n in {names}:
    (fusionpipe.data_dir() / f"{{n}}.h5").write_text(n * 3)
(fusionpipe.data_dir() / "notes.txt").write_text("x")
"""
FIT = """
import json, fusionpipe
line = json.loads((fusionpipe.parent("01").data_dir() / "line.json").read_text())
(fusionpipe.data_dir() / "fit.txt").write_text(str(line[2] - line[1]))
"""


@pytest.fixture
def engine_settings():
    return {"max_parallel_nodes": 2}


def folder(node) -> Path:
    return Path(node["folder"])


async def mapped(engine, parameters=SLOPES, code=MAKE, tag="p"):
    pipeline = await engine.pipeline(tag)
    node = await engine.node(pipeline, "make")
    await engine.set_parameters(node, parameters)
    write_code(node, code)
    return pipeline, node


async def test_a_list_runs_one_process_per_item_with_its_own_folder_log_and_metrics(engine):
    pipeline, node = await mapped(engine)
    finished = await engine.run(pipeline)
    assert finished["status"] == "completed", finished
    statuses = await engine.item_statuses(node)
    assert statuses == {
        "slope=0.5": "completed",
        "slope=1.0": "completed",
        "slope=2.0": "completed",
    }
    for slope in ("0.5", "1.0", "2.0"):
        out = json.loads((folder(node) / "data" / f"slope={slope}" / "line.json").read_text())
        assert out[1] == float(slope)
        logs = list((folder(node) / "logs" / "items" / f"slope={slope}").glob("*.log"))
        assert len(logs) == 1
    graph = await engine.graph_nodes(pipeline)
    assert graph["make"]["status"] == "completed"
    assert graph["make"]["items"] == {
        "total": 3,
        "ready": 0,
        "running": 0,
        "completed": 3,
        "failed": 0,
        "staledata": 0,
        "queued": 0,
    }
    page = await engine.items(node)
    assert [i["metrics"]["chi2"] for i in page["items"]] == [1.0, 2.0, 4.0]
    manifest = json.loads((folder(node) / "items.json").read_text())
    assert [i["id"] for i in manifest["items"]] == ["slope=0.5", "slope=1.0", "slope=2.0"]
    assert manifest["items"][0]["metrics"] == {"chi2": 1.0, "slope": 0.5}


async def test_a_new_value_runs_alone_and_then_what_gathers_it(engine):
    pipeline, node = await mapped(engine)
    gather = await engine.node(pipeline, "gather")
    await engine.connect(pipeline, node, gather)
    write_code(gather, GATHER)
    assert (await engine.run(pipeline))["status"] == "completed"
    assert (folder(gather) / "data" / "total.txt").read_text() == "7.0"
    assert (folder(gather) / "data" / "chi2.txt").read_text() == "7.0"  # 1 + 2 + 4
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
    # The compare view's table says the same as the list and the counts.
    table = await engine.service.items.metrics(node["id"], "items")
    assert {row["status"] for row in table["rows"]} == {"staledata"}


async def test_one_failing_item_never_stops_the_others_and_runs_again_alone(engine):
    code = (
        MAKE
        + "\nimport sys\n"
        + "if slope == 1.0 and not (fusionpipe.code_dir() / 'fixed').exists():\n"
        + "    sys.exit(3)\n"
    )
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


async def test_a_grid_gives_every_combination_with_readable_ids(engine):
    grid = "map:\n  shot: [30101, 30102]\n  method: [fast, exact]\n"
    code = (
        "import fusionpipe\n"
        "(fusionpipe.data_dir() / 'p.txt').write_text(str(fusionpipe.parameters()['method']))\n"
    )
    pipeline, node = await mapped(engine, grid, code)
    assert (await engine.run(pipeline))["status"] == "completed"
    ids = list(await engine.item_statuses(node))
    assert ids == [
        "shot=30101,method=fast",
        "shot=30101,method=exact",
        "shot=30102,method=fast",
        "shot=30102,method=exact",
    ]
    assert (folder(node) / "data" / ids[1] / "p.txt").read_text() == "exact"


async def test_a_csv_row_and_a_text_line_each_give_an_item_and_a_new_row_runs_alone(engine):
    code = (
        "import fusionpipe\n(fusionpipe.data_dir() / 'v.txt').write_text(repr(fusionpipe.item()))\n"
    )
    pipeline, node = await mapped(engine, "", code)
    write_code(node, "shot,gain\n1,0.5\n2,0.7\n", "shots.csv")
    await engine.set_parameters(node, "map: {from: shots.csv}\n")
    first = await engine.run(pipeline)
    assert first["status"] == "completed", first
    page = await engine.items(node)
    assert [i["values"] for i in page["items"]] == [
        {"shot": 1, "gain": 0.5},
        {"shot": 2, "gain": 0.7},
    ]
    # The table decides which items exist; it is no code: the others stay up to date.
    write_code(node, "shot,gain\n1,0.5\n2,0.7\n3,0.9\n", "shots.csv")
    second = await engine.run(pipeline)
    runs = {i["id"]: i["run_id"] for i in (await engine.items(node))["items"]}
    assert runs == {
        "shot=1,gain=0.5": first["id"],
        "shot=2,gain=0.7": first["id"],
        "shot=3,gain=0.9": second["id"],
    }
    other, txt = await mapped(engine, "", code, tag="q")
    write_code(txt, "alpha\n\nbeta\n", "names.txt")
    await engine.set_parameters(txt, "map: {from: names.txt}\n")
    assert (await engine.run(other))["status"] == "completed"
    assert list(await engine.item_statuses(txt)) == ["value=alpha", "value=beta"]


async def test_files_of_a_parent_become_items_once_it_has_run(engine):
    pipeline = await engine.pipeline()
    source = await engine.node(pipeline, "source")
    write_code(
        source,
        SOURCE.format(names="('a', 'b')"),
    )
    each = await engine.node(pipeline, "each")
    await engine.connect(pipeline, source, each)
    await engine.set_parameters(each, 'map: {files: "01:*.h5"}\n')
    write_code(
        each,
        "import fusionpipe, pathlib\n"
        "f = pathlib.Path(fusionpipe.item()['file'])\n"
        "(fusionpipe.data_dir() / 'size.txt').write_text(str(len(f.read_text())))\n",
    )
    first = await engine.run(pipeline)
    assert first["status"] == "completed", first
    assert list(await engine.item_statuses(each)) == ["a.h5", "b.h5"]
    assert (folder(each) / "data" / "b.h5" / "size.txt").read_text() == "3"
    # A new file in the parent: only its item runs (plus the parent itself).
    write_code(
        source,
        SOURCE.format(names="('a', 'b', 'c')"),
    )
    second = await engine.run(pipeline)
    runs = {i["id"]: i["run_id"] for i in (await engine.items(each))["items"]}
    assert runs == {"a.h5": first["id"], "b.h5": first["id"], "c.h5": second["id"]}


async def test_along_follows_the_parent_item_by_item_with_early_cutoff(engine):
    pipeline, make = await mapped(engine)
    fit = await engine.node(pipeline, "fit")
    await engine.connect(pipeline, make, fit)
    await engine.set_parameters(fit, 'map: {along: "01"}\n')
    write_code(
        fit,
        FIT,
    )
    first = await engine.run(pipeline)
    assert first["status"] == "completed", first
    assert (folder(fit) / "data" / "slope=2.0" / "fit.txt").read_text() == "2.0"
    # The parent's code changes but makes the same outputs: every fit item is cut off.
    write_code(make, MAKE + "\n# same outputs\n")
    second = await engine.run(pipeline)
    assert second["status"] == "completed", second
    make_runs = {i["run_id"] for i in (await engine.items(make))["items"]}
    fit_runs = {i["run_id"] for i in (await engine.items(fit))["items"]}
    assert make_runs == {second["id"]}
    assert fit_runs == {first["id"]}


async def test_a_removed_item_goes_to_the_cache_and_comes_back_without_running(engine):
    pipeline, node = await mapped(engine)
    first = await engine.run(pipeline)
    await engine.set_parameters(node, "map:\n  slope: [0.5, 1.0]\n")
    second = await engine.run(pipeline)
    assert second["status"] == "completed", second
    assert not (folder(node) / "data" / "slope=2.0").exists()
    assert (await engine.graph_nodes(pipeline))["make"]["items"]["total"] == 2
    await engine.set_parameters(node, SLOPES)
    third = await engine.run(pipeline)
    back = {i["id"]: i for i in (await engine.items(node))["items"]}["slope=2.0"]
    assert back["reason"] == f"restored from run {first['id']}", back
    assert (folder(node) / "data" / "slope=2.0" / "line.json").is_file()
    assert third["status"] == "completed"


async def test_reordering_values_renames_nothing_and_runs_nothing(engine):
    pipeline, node = await mapped(engine)
    first = await engine.run(pipeline)
    await engine.set_parameters(node, "map:\n  slope: [2.0, 0.5, 1.0]\n")
    await engine.run(pipeline)
    page = (await engine.items(node))["items"]
    assert [i["id"] for i in page] == ["slope=2.0", "slope=0.5", "slope=1.0"]
    assert {i["run_id"] for i in page} == {first["id"]}


async def test_items_page_and_filter(engine):
    pipeline, node = await mapped(engine, "map:\n  n: " + str(list(range(120))) + "\n", "pass\n")
    assert (await engine.run(pipeline))["status"] == "completed"
    page = await engine.items(node, offset=100, limit=50)
    assert page["total"] == 120 and len(page["items"]) == 20
    assert page["items"][0]["id"] == "n=100"
    found = await engine.items(node, text="n=11")
    assert found["total"] == 11  # n=11 and n=110..119
    assert (await engine.items(node, status="failed"))["total"] == 0


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        ("map: 3\n", "map must be a mapping"),
        ("map:\n  shot: 30101\n", "map shot: must be a list of values, not the scalar 30101"),
        ("map: {along: '02'}\n", "map along: there is no input in slot 02"),
        ("map: {from: shots.csv}\n", "map from: there is no file shots.csv in code/"),
        ("map: {from: shots.csv, along: '01'}\n", "at once"),
        (
            f"map:\n  a: {list(range(1000))}\n  b: {list(range(101))}\n",
            "map gives 101000 items, more than the limit of 100000",
        ),
        ("map:\n  a: [1, 1]\n", "map a: 1 appears twice"),
        ("map: {files: '*.h5'}\n", 'map files: must be "SLOT:GLOB"'),
    ],
)
async def test_a_bad_declaration_is_refused_naming_map(engine, declared, problem):
    _, node = await mapped(engine, "", "pass\n")
    before = (Path(node["folder"]) / "code" / "node_parameters.yaml").read_text()
    with pytest.raises(Exception) as refused:
        await engine.set_parameters(node, declared)
    assert type(refused.value).__name__ == "Invalid"
    assert problem in str(refused.value), str(refused.value)
    assert (Path(node["folder"]) / "code" / "node_parameters.yaml").read_text() == before


async def test_a_kill_ends_every_running_item_and_starts_no_more(engine):
    slow = "import time\ntime.sleep(30)\n"
    pipeline, node = await mapped(engine, "map:\n  n: [1, 2, 3, 4, 5]\n", slow)
    started = await engine.start(pipeline)
    for _ in range(200):
        if ((await engine.graph_nodes(pipeline))["make"]["items"] or {}).get("running") == 2:
            break
        await asyncio.sleep(0.05)
    killed = await engine.kill(pipeline, node)
    assert killed["killed"] is True
    finished = await engine.wait_run(started["id"], timeout=30)
    assert finished["status"] == "failed"
    statuses = await engine.item_statuses(node)
    assert sorted(statuses.values()) == ["failed", "failed", "ready", "ready", "ready"]
    assert (await engine.graph_nodes(pipeline))["make"]["status"] == "failed"


async def test_a_new_value_shows_the_node_stale_for_its_items_alone(engine):
    pipeline, node = await mapped(engine)
    await engine.run(pipeline)
    await engine.set_parameters(node, "map:\n  slope: [0.5, 1.0, 2.0, 3.0]\n")
    await engine.service.staleness.check_pipeline(pipeline["id"])
    shown = (await engine.graph_nodes(pipeline))["make"]
    assert shown["status"] == "staledata"
    assert [r["kind"] for r in shown["stale_reasons"]] == ["items"]
    # The items it has are still up to date: only the new one will run.
    assert shown["items"]["completed"] == 3 and shown["items"]["staledata"] == 0
    assert set((await engine.item_statuses(node)).values()) == {"completed"}


async def test_cleared_outputs_or_a_deleted_item_folder_run_again(engine):
    pipeline, node = await mapped(engine)
    await engine.run(pipeline)
    import shutil

    shutil.rmtree(folder(node) / "data" / "slope=1.0")
    again = await engine.run(pipeline)
    runs = {i["id"]: i["run_id"] for i in (await engine.items(node))["items"]}
    assert runs["slope=1.0"] == again["id"] and runs["slope=0.5"] != again["id"]
    await engine.service.nodes.clear_outputs(pipeline["id"], [node["id"]])
    assert (await engine.graph_nodes(pipeline))["make"]["items"] is None
    third = await engine.run(pipeline)
    assert {i["run_id"] for i in (await engine.items(node))["items"]} == {third["id"]}


async def test_a_node_no_longer_mapped_has_no_items(engine):
    pipeline, node = await mapped(engine)
    await engine.run(pipeline)
    await engine.set_parameters(node, "x: 1\n")
    assert (await engine.graph_nodes(pipeline))["make"]["items"] is None


async def test_a_crash_leaves_no_item_marked_queued_whatever_its_status(engine):
    """The server watching a job array marks its waiting items queued, possibly before they are
    recorded as started: after a crash, ending the node's running items clears every mark, so a
    later local run never shows its items as waiting in a batch queue."""
    pipeline, node = await mapped(engine)
    assert (await engine.run(pipeline))["status"] == "completed"
    async with engine.service.projects.db.transaction() as conn:
        await conn.execute(
            "UPDATE node_items SET status = 'running' WHERE node_id = %s AND item_id = %s",
            (node["id"], "slope=0.5"),
        )
        await item_store.set_queued(conn, node["id"], ["slope=0.5", "slope=1.0"], True)
        assert (await item_store.counts(conn, [node["id"]]))[node["id"]]["queued"] == 1
        await item_store.end_running(conn, node["id"], "its server stopped")
    assert await engine.item_statuses(node) == {
        "slope=0.5": "failed",
        "slope=1.0": "completed",
        "slope=2.0": "completed",
    }
    async with engine.service.projects.db.transaction() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM node_items WHERE node_id = %s AND queued", (node["id"],)
        )
        assert (await cur.fetchone())[0] == 0
