"""Nodes, parameters, statuses, outputs, edges and groups through the REST API."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from fusionpipe_server.store import edges as edge_store
from fusionpipe_server.store import groups as group_store
from fusionpipe_server.store import nodes as node_store
from fusionpipe_server.store import pipelines as pipeline_store


async def setup_pipeline(api, tag="p"):
    _, project = await api("POST", "projects", {"tag": f"project-{tag}"})
    _, pipeline = await api("POST", "pipelines", {"project_id": project["id"], "tag": tag})
    return pipeline


async def add_node(api, pipeline, tag, **fields):
    status, node = await api("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": tag, **fields})
    assert status == 201, node
    return node


async def connect(api, pipeline, parent, child):
    return await api(
        "POST", f"pipelines/{pipeline['id']}/edges", {"source": parent["id"], "target": child["id"]}
    )


async def statuses(api, pipeline):
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    return {node["tag"]: node["status"] for node in graph["nodes"]}


def set_status_in_db(database_url, node_ids_to_status):
    with psycopg.connect(database_url) as conn:
        for node_id, status in node_ids_to_status.items():
            conn.execute("UPDATE nodes SET status = %s WHERE id = %s", (status, node_id))


async def test_create_node_makes_its_folder_from_the_template(api, data_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "fit", position={"x": 10, "y": 20})
    assert node["id"].startswith("n_")
    assert (node["tag"], node["kind"], node["status"]) == ("fit", "python", "ready")
    assert node["position"] == {"x": 10.0, "y": 20.0}
    assert (node["referenced"], node["locked"], node["group"]) == (False, False, None)
    folder = Path(node["folder"])
    assert folder == data_path / pipeline["project_id"] / node["id"]
    assert (folder / "code" / "main.py").is_file()
    assert (folder / "code" / "node_parameters.yaml").is_file()
    assert (folder / "data").is_dir() and (folder / "reports").is_dir()
    identity = json.loads((folder / ".fusionpipe-node.json").read_text())
    assert (identity["node_id"], identity["tag"], identity["parents"]) == (node["id"], "fit", [])

    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert [n["id"] for n in graph["nodes"]] == [node["id"]]


@pytest.mark.parametrize(
    ("kind", "entry"), [("notebook", "main.ipynb"), ("matlab", "main.m"), ("shell", "main.sh")]
)
async def test_each_kind_gets_its_entry_point(api, kind, entry):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n", kind=kind)
    assert node["kind"] == kind
    assert (Path(node["folder"]) / "code" / entry).is_file()


async def test_node_create_refusals(api, data_path):
    pipeline = await setup_pipeline(api)
    url = f"pipelines/{pipeline['id']}/nodes"
    status, body = await api("POST", url, {"kind": "fortran"})
    assert status == 400 and "kind" in body["message"]
    status, body = await api("POST", url, {"position": {"x": 1}})
    assert status == 400 and "position.y" in body["message"]
    status, body = await api("POST", "pipelines/p_nope/nodes", {})
    assert status == 404
    await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": True})
    status, body = await api("POST", url, {})
    assert status == 409 and "locked" in body["message"]
    assert list((data_path / pipeline["project_id"]).glob("*")) == [], "no folder left behind"


async def test_tag_notes_and_lock(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "raw")
    url = f"pipelines/{pipeline['id']}/nodes/{node['id']}"
    status, body = await api("PATCH", url, {"tag": "clean", "notes": "calibrated"})
    assert (status, body["tag"], body["notes"]) == (200, "clean", "calibrated")

    status, body = await api("PATCH", url, {"locked": True})
    assert (status, body["locked"]) == (200, True)
    main = Path(node["folder"]) / "code" / "main.py"
    assert not main.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    status, body = await api("PATCH", url, {"tag": "again"})
    assert status == 409 and "locked" in body["message"]
    status, body = await api("PATCH", url, {"position": {"x": 5, "y": 6}})
    assert status == 200, "a locked node can still be moved on the canvas"
    status, body = await api("DELETE", url)
    assert status == 409 and "locked" in body["message"]

    status, body = await api("PATCH", url, {"locked": False})
    assert (status, body["locked"]) == (200, False)
    assert main.stat().st_mode & stat.S_IWUSR


async def test_delete_node_moves_it_to_the_trash_and_stales_children(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    set_status_in_db(database_url, {a["id"]: "completed", b["id"]: "completed"})
    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{a['id']}")
    assert status == 204
    # Out of its place, kept aside beside it (in the data folder) for the trash.
    folder = Path(a["folder"])
    assert not folder.exists()
    (kept,) = folder.parent.glob(f".{a['id']}.deleted-t_*")
    assert (kept / "code" / "main.py").is_file()
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["edges"] == []
    assert {n["tag"]: n["status"] for n in graph["nodes"]} == {"b": "staledata"}
    assert (await api("GET", f"nodes/{a['id']}"))[0] == 404
    _, trash = await api("GET", "trash")
    assert [(i["kind"], i["item_id"]) for i in trash["items"]] == [("node", a["id"])]
    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{a['id']}")
    assert status == 404


async def test_parameters_round_trip_and_yaml_errors_name_the_line(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "sim")
    url = f"nodes/{node['id']}/parameters"
    status, body = await api("GET", url)
    assert status == 200 and "run_mode" in body["content"]

    status, body = await api("PUT", url, {"content": "run_mode: local\nalpha: 0.5\n"})
    assert (status, body["parameters"]) == (200, {"run_mode": "local", "alpha": 0.5})
    identity = json.loads((Path(node["folder"]) / ".fusionpipe-node.json").read_text())
    assert identity["parameters"] == {"run_mode": "local", "alpha": 0.5}

    status, body = await api("PUT", url, {"content": "alpha: 1\nbeta: [1, 2\n"})
    assert status == 400 and "line" in body["message"]
    status, body = await api("PUT", url, {"content": 5})
    assert status == 400
    _, body = await api("GET", url)
    assert body["content"] == "run_mode: local\nalpha: 0.5\n", "a refused write changes nothing"
    status, _ = await api("GET", "nodes/n_unknown/parameters")
    assert status == 404


async def test_changing_parameters_makes_outputs_stale(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    set_status_in_db(database_url, {a["id"]: "completed", b["id"]: "completed"})
    await api("PUT", f"nodes/{a['id']}/parameters", {"content": "run_mode: local\n"})
    assert await statuses(api, pipeline) == {"a": "completed", "b": "completed"}, "no change"
    await api("PUT", f"nodes/{a['id']}/parameters", {"content": "run_mode: local\nx: 2\n"})
    assert await statuses(api, pipeline) == {"a": "staledata", "b": "staledata"}


async def test_edges_get_slots_and_refuse_cycles_with_the_path(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b, c = [await add_node(api, pipeline, t) for t in "abc"]
    status, ab = await connect(api, pipeline, a, c)
    assert (status, ab["slot"], ab["source"], ab["target"]) == (201, "01", a["id"], c["id"])
    status, bc = await connect(api, pipeline, b, c)
    assert bc["slot"] == "02"
    status, body = await connect(api, pipeline, c, a)
    assert status == 409 and "cycle" in body["message"]
    assert "c -> a -> c" in body["message"] or "a -> c -> a" in body["message"]
    status, body = await connect(api, pipeline, a, a)
    assert status == 409 and "cycle" in body["message"]
    status, body = await connect(api, pipeline, a, c)
    assert status == 409 and "already connected" in body["message"]
    status, body = await api("POST", f"pipelines/{pipeline['id']}/edges", {"source": a["id"]})
    assert (status, body["message"]) == (400, "target is required")
    status, body = await api(
        "POST", f"pipelines/{pipeline['id']}/edges", {"source": a["id"], "target": "n_ghost"}
    )
    assert status == 404 and "n_ghost" in body["message"]

    identity = json.loads((Path(c["folder"]) / ".fusionpipe-node.json").read_text())
    assert [(p["id"], p["slot"]) for p in identity["parents"]] == [(a["id"], "01"), (b["id"], "02")]

    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}/edges/{ab['id']}")
    assert status == 204
    status, body = await connect(api, pipeline, a, c)
    assert body["slot"] == "03", "slots are not reused"
    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}/edges/e_nope")
    assert status == 404


async def test_new_edge_into_a_completed_child_stales_it_and_its_descendants(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b, c, d = [await add_node(api, pipeline, t) for t in "abcd"]
    await connect(api, pipeline, b, c)
    await connect(api, pipeline, c, d)
    set_status_in_db(
        database_url,
        {a["id"]: "completed", b["id"]: "completed", c["id"]: "completed", d["id"]: "running"},
    )
    await connect(api, pipeline, a, b)
    assert await statuses(api, pipeline) == {
        "a": "completed",
        "b": "staledata",
        "c": "staledata",
        "d": "running",
    }


async def test_manual_status_is_one_request_in_topological_order(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b, c = [await add_node(api, pipeline, t) for t in "abc"]
    await connect(api, pipeline, a, b)
    await connect(api, pipeline, b, c)
    url = f"pipelines/{pipeline['id']}/status"
    status, _ = await api(
        "POST", url, {"node_ids": [c["id"], b["id"], a["id"]], "status": "completed"}
    )
    assert status == 204
    assert await statuses(api, pipeline) == {"a": "completed", "b": "completed", "c": "completed"}
    status, _ = await api("POST", url, {"node_ids": [a["id"]], "status": "staledata"})
    assert await statuses(api, pipeline) == {"a": "staledata", "b": "staledata", "c": "staledata"}
    status, body = await api("POST", url, {"node_ids": [a["id"]], "status": "running"})
    assert status == 400 and "status" in body["message"]
    status, body = await api("POST", url, {"node_ids": [], "status": "completed"})
    assert status == 400 and "node_ids" in body["message"]


async def test_clear_outputs_empties_data_and_stales_descendants(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    set_status_in_db(database_url, {a["id"]: "completed", b["id"]: "completed"})
    data = Path(a["folder"]) / "data"
    (data / "result.csv").write_text("1,2\n")
    (data / "nested").mkdir()
    (data / "nested" / "x.bin").write_bytes(b"\0")
    status, _ = await api(
        "POST", f"pipelines/{pipeline['id']}/clear-outputs", {"node_ids": [a["id"]]}
    )
    assert status == 204
    assert data.is_dir() and list(data.iterdir()) == []
    assert await statuses(api, pipeline) == {"a": "ready", "b": "staledata"}


async def test_groups_lifecycle(api):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    url = f"pipelines/{pipeline['id']}/groups"
    status, group = await api(
        "POST",
        url,
        {
            "node_ids": [a["id"], b["id"]],
            "tag": "prep",
            "position": {"x": 0, "y": 0},
            "size": {"width": 300, "height": 200},
        },
    )
    assert status == 201 and group["id"].startswith("ng_")
    assert (group["tag"], group["collapsed"], group["size"]) == (
        "prep",
        False,
        {"width": 300.0, "height": 200.0},
    )
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert {n["group"] for n in graph["nodes"]} == {group["id"]}
    assert [g["id"] for g in graph["groups"]] == [group["id"]]

    status, body = await api("POST", url, {"node_ids": [a["id"]]})
    assert status == 409 and "group" in body["message"]
    status, body = await api(
        "PATCH", f"groups/{group['id']}", {"tag": "prepare", "collapsed": True}
    )
    assert (status, body["tag"], body["collapsed"]) == (200, "prepare", True)
    status, body = await api("PATCH", f"groups/{group['id']}", {"size": {"width": -1, "height": 2}})
    assert status == 400
    status, _ = await api("DELETE", f"groups/{group['id']}")
    assert status == 204
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["groups"] == [] and {n["group"] for n in graph["nodes"]} == {None}
    assert (await api("PATCH", "groups/ng_missing", {"tag": "x"}))[0] == 404


async def test_positions_are_saved_in_one_request(api):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    status, _ = await api(
        "POST",
        f"pipelines/{pipeline['id']}/positions",
        {"positions": {a["id"]: {"x": 1, "y": 2}, b["id"]: {"x": 3.5, "y": -4}}},
    )
    assert status == 204
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert {n["tag"]: n["position"] for n in graph["nodes"]} == {
        "a": {"x": 1.0, "y": 2.0},
        "b": {"x": 3.5, "y": -4.0},
    }


async def test_deleting_a_pipeline_moves_it_and_its_nodes_to_the_trash(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "a")
    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}")
    assert status == 204
    assert not Path(node["folder"]).exists()
    assert len(list(Path(node["folder"]).parent.glob(f".{node['id']}.deleted-t_*"))) == 1
    assert (await api("GET", f"nodes/{node['id']}"))[0] == 404
    _, trash = await api("GET", "trash")
    assert [(i["kind"], i["item_id"], i["counts"]) for i in trash["items"]] == [
        ("pipeline", pipeline["id"], {"pipelines": 1, "nodes": 1})
    ]


async def test_graph_fetch_costs_the_same_queries_whatever_the_size(api, monkeypatch):
    small, large = await setup_pipeline(api, "small"), await setup_pipeline(api, "large")
    for pipeline, count in ((small, 2), (large, 30)):
        previous = None
        for i in range(count):
            node = await add_node(api, pipeline, f"n{i}")
            if previous:
                await connect(api, pipeline, previous, node)
            previous = node

    # Only the fetch itself: the staleness checks and file watching a fetch sets off run apart,
    # in the background.
    await api.server.web_app.settings["fusionpipe_watcher"].stop()
    await api.service.staleness.stop()
    executed = []
    original = psycopg.AsyncCursor.execute

    async def counting(self, query, *args, **kwargs):
        executed.append(query)
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counting)
    counts = {}
    for pipeline in (small, large):
        executed.clear()
        _, graph = await api("GET", f"pipelines/{pipeline['id']}")
        counts[pipeline["tag"]] = len(executed)
    assert len(graph["nodes"]) == 30 and len(graph["edges"]) == 29
    assert counts["small"] == counts["large"] == 1


async def test_the_graph_built_by_the_database_matches_the_models(api, database_url, data_path):
    """GET pipelines/{id} is serialised by PostgreSQL; it must say what the models say."""
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    status, _ = await api(
        "POST",
        f"pipelines/{pipeline['id']}/groups",
        {"node_ids": [b["id"]], "tag": "fits", "position": {"x": 1.5, "y": 2}},
    )
    assert status == 201
    other = await setup_pipeline(api, "other")
    await api(
        "POST",
        f"pipelines/{pipeline['id']}/reference-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": other["id"]},
    )
    set_status_in_db(database_url, {b["id"]: "running"})
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")

    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        row = await pipeline_store.get_pipeline(conn, pipeline["id"])
        assert row is not None
        members = await node_store.members(conn, row.id)
        expected = {
            **row.to_json(),
            "nodes": [node.to_json(str(data_path)) for node in members],
            "edges": [edge.to_json() for edge in await edge_store.pipeline_edges(conn, row.id)],
            "groups": [
                group.to_json() for group in await group_store.pipeline_groups(conn, row.id)
            ],
        }
    for key in ("created_at", "updated_at"):  # the same instant, however many digits
        assert datetime.fromisoformat(graph.pop(key)) == datetime.fromisoformat(expected.pop(key))
    assert graph == expected
    assert graph["nodes"][0]["referenced"] and graph["nodes"][1]["group"] is not None
    assert graph["nodes"][1]["status"] == "running" and graph["nodes"][1]["started_at"] is None
