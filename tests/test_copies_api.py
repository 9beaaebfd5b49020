"""Duplicate, reference, detach, branch, duplicate pipeline and merge through the REST API."""

from __future__ import annotations

import stat
from pathlib import Path

from test_nodes_api import add_node, connect, set_status_in_db, setup_pipeline


async def graph_of(api, pipeline_id):
    status, graph = await api("GET", f"pipelines/{pipeline_id}")
    assert status == 200
    return graph


def by_tag(graph):
    return {node["tag"]: node for node in graph["nodes"]}


def edges_by_tag(graph):
    tags = {node["id"]: node["tag"] for node in graph["nodes"]}
    return {(tags[e["source"]], tags[e["target"]], e["slot"]) for e in graph["edges"]}


def writable(folder):
    return bool((Path(folder) / "code" / "main.py").stat().st_mode & stat.S_IWUSR)


async def second_pipeline(api, first, tag):
    status, body = await api("POST", "pipelines", {"project_id": first["project_id"], "tag": tag})
    assert status == 201
    return body


async def test_duplicate_nodes_keeps_edges_slots_and_outside_parents(api, database_url):
    pipeline = await setup_pipeline(api)
    p, q, a, b = [await add_node(api, pipeline, t) for t in ("p", "q", "a", "b")]
    await connect(api, pipeline, q, a)  # slot 01 of a
    await connect(api, pipeline, p, a)  # slot 02 of a
    await connect(api, pipeline, a, b)
    set_status_in_db(database_url, {n["id"]: "completed" for n in (p, q, a, b)})
    (Path(a["folder"]) / "data" / "out.txt").write_text("result")
    (Path(a["folder"]) / "code" / "main.py").write_text("print('custom')\n")

    status, body = await api(
        "POST",
        f"pipelines/{pipeline['id']}/duplicate-nodes",
        {"node_ids": [a["id"], b["id"]], "target_pipeline_id": pipeline["id"], "with_data": True},
    )
    assert status == 201
    id_map = body["id_map"]
    assert set(id_map) == {a["id"], b["id"]} and len(set(id_map.values())) == 2
    graph = await graph_of(api, pipeline["id"])
    copy_a = next(n for n in graph["nodes"] if n["id"] == id_map[a["id"]])
    assert copy_a["tag"] == "a" and copy_a["status"] == "staledata"
    assert copy_a["position"] == {"x": a["position"]["x"] + 40, "y": a["position"]["y"] + 40}
    edges = {(e["source"], e["target"], e["slot"]) for e in graph["edges"]}
    assert (q["id"], id_map[a["id"]], "01") in edges
    assert (p["id"], id_map[a["id"]], "02") in edges
    assert (id_map[a["id"]], id_map[b["id"]], "01") in edges
    copied = Path(copy_a["folder"])
    assert (copied / "data" / "out.txt").read_text() == "result"
    assert (copied / "code" / "main.py").read_text() == "print('custom')\n"


async def test_duplicate_without_data_starts_ready_and_empty(api, database_url):
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    set_status_in_db(database_url, {a["id"]: "completed"})
    (Path(a["folder"]) / "data" / "out.txt").write_text("result")
    _, body = await api(
        "POST",
        f"pipelines/{pipeline['id']}/duplicate-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": pipeline["id"]},
    )
    graph = await graph_of(api, pipeline["id"])
    copy = next(n for n in graph["nodes"] if n["id"] == body["id_map"][a["id"]])
    assert copy["status"] == "ready"
    assert list((Path(copy["folder"]) / "data").iterdir()) == []


async def test_duplicate_into_a_pipeline_missing_a_parent_is_refused_and_leaves_nothing(api):
    pipeline = await setup_pipeline(api)
    other = await second_pipeline(api, pipeline, "other")
    p, a = await add_node(api, pipeline, "p"), await add_node(api, pipeline, "a")
    await connect(api, pipeline, p, a)
    project_folder = Path(a["folder"]).parent
    before = sorted(project_folder.iterdir())
    status, body = await api(
        "POST",
        f"pipelines/{pipeline['id']}/duplicate-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": other["id"]},
    )
    assert status == 409 and p["id"] in body["message"]
    assert sorted(project_folder.iterdir()) == before
    assert (await graph_of(api, other["id"]))["nodes"] == []


async def test_many_nodes_duplicated_at_once_get_distinct_ids(api):
    pipeline = await setup_pipeline(api)
    nodes = [await add_node(api, pipeline, f"n{i}") for i in range(60)]
    status, body = await api(
        "POST",
        f"pipelines/{pipeline['id']}/duplicate-nodes",
        {"node_ids": [n["id"] for n in nodes], "target_pipeline_id": pipeline["id"]},
    )
    assert status == 201 and len(set(body["id_map"].values())) == 60
    assert len((await graph_of(api, pipeline["id"]))["nodes"]) == 120


async def test_reference_shares_a_node_read_only_until_one_pipeline_lets_go(api):
    pipeline = await setup_pipeline(api)
    other = await second_pipeline(api, pipeline, "other")
    a = await add_node(api, pipeline, "a")
    status, _ = await api(
        "POST",
        f"pipelines/{pipeline['id']}/reference-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": other["id"]},
    )
    assert status == 204
    for pid in (pipeline["id"], other["id"]):
        assert by_tag(await graph_of(api, pid))["a"]["referenced"] is True
    assert not writable(a["folder"])

    x = await add_node(api, other, "x")
    status, body = await connect(api, other, x, a)
    assert status == 409 and "referenced" in body["message"]
    status, body = await api("PUT", f"nodes/{a['id']}/parameters", {"content": "k: 1\n"})
    assert status == 409 and "referenced" in body["message"]
    status, _ = await connect(api, other, a, x)
    assert status == 201, "a shared node can feed new children"

    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{a['id']}")
    assert status == 204
    assert Path(a["folder"]).exists(), "the other pipeline still holds it"
    assert by_tag(await graph_of(api, other["id"]))["a"]["referenced"] is False
    assert writable(a["folder"])


async def test_reference_refusals(api):
    pipeline = await setup_pipeline(api)
    other = await second_pipeline(api, pipeline, "other")
    p, a = await add_node(api, pipeline, "p"), await add_node(api, pipeline, "a")
    await connect(api, pipeline, p, a)
    url = f"pipelines/{pipeline['id']}/reference-nodes"
    status, body = await api(
        "POST", url, {"node_ids": [a["id"]], "target_pipeline_id": other["id"]}
    )
    assert status == 409 and p["id"] in body["message"]
    status, body = await api(
        "POST", url, {"node_ids": [a["id"]], "target_pipeline_id": pipeline["id"]}
    )
    assert status == 400
    status, _ = await api(
        "POST", url, {"node_ids": [p["id"], a["id"]], "target_pipeline_id": other["id"]}
    )
    assert status == 204, "with its parent it can come"


async def test_branch_copies_from_the_node_down_and_shares_upstream(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b, c = [await add_node(api, pipeline, t) for t in "abc"]
    await connect(api, pipeline, a, b)
    await connect(api, pipeline, b, c)
    set_status_in_db(database_url, {n["id"]: "completed" for n in (a, b, c)})
    status, branch = await api("POST", f"pipelines/{pipeline['id']}/branch", {"node_id": b["id"]})
    assert status == 201 and branch["id"] != pipeline["id"]
    assert branch["tag"] == "p branch"
    graph = await graph_of(api, branch["id"])
    nodes = by_tag(graph)
    assert nodes["a"]["id"] == a["id"] and nodes["a"]["referenced"]
    assert nodes["b"]["id"] != b["id"] and nodes["c"]["id"] != c["id"]
    assert (nodes["b"]["status"], nodes["c"]["status"]) == ("ready", "ready")
    assert edges_by_tag(graph) == {("a", "b", "01"), ("b", "c", "01")}

    _, project_graph = await api("GET", f"projects/{pipeline['project_id']}/graph")
    assert {
        "source": pipeline["id"],
        "target": branch["id"],
        "relation": "branch",
    } in project_graph["edges"]
    status, again = await api("POST", f"pipelines/{pipeline['id']}/branch", {"node_id": b["id"]})
    assert again["tag"] == "p branch 2"


async def test_duplicate_pipeline_with_data_keeps_statuses_and_groups(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    await api(
        "POST", f"pipelines/{pipeline['id']}/groups", {"node_ids": [a["id"], b["id"]], "tag": "g"}
    )
    set_status_in_db(database_url, {a["id"]: "completed", b["id"]: "failed"})
    status, copy = await api("POST", f"pipelines/{pipeline['id']}/duplicate", {"with_data": True})
    assert status == 201
    graph = await graph_of(api, copy["id"])
    nodes = by_tag(graph)
    assert {n["status"] for n in graph["nodes"]} == {"completed", "failed"}
    assert {nodes["a"]["id"], nodes["b"]["id"]}.isdisjoint({a["id"], b["id"]})
    assert edges_by_tag(graph) == {("a", "b", "01")}
    assert [g["tag"] for g in graph["groups"]] == ["g"]
    assert {n["group"] for n in graph["nodes"]} == {graph["groups"][0]["id"]}


async def test_merge_shares_every_node_and_records_lineage(api):
    first = await setup_pipeline(api)
    second = await second_pipeline(api, first, "second")
    a, b = await add_node(api, first, "a"), await add_node(api, second, "b")
    status, merged = await api(
        "POST", "pipelines/merge", {"pipeline_ids": [first["id"], second["id"]]}
    )
    assert status == 201
    graph = await graph_of(api, merged["id"])
    assert {n["id"] for n in graph["nodes"]} == {a["id"], b["id"]}
    assert all(n["referenced"] for n in graph["nodes"])
    _, project_graph = await api("GET", f"projects/{first['project_id']}/graph")
    relations = {(e["source"], e["target"], e["relation"]) for e in project_graph["edges"]}
    assert relations == {
        (first["id"], merged["id"], "merge"),
        (second["id"], merged["id"], "merge"),
    }

    elsewhere = await setup_pipeline(api, "elsewhere")
    status, body = await api(
        "POST", "pipelines/merge", {"pipeline_ids": [first["id"], elsewhere["id"]]}
    )
    assert status == 409 and "project" in body["message"]
    status, body = await api("POST", "pipelines/merge", {"pipeline_ids": [first["id"]]})
    assert status == 400


async def test_detach_gives_private_copies_and_rewires_children(api, database_url):
    pipeline = await setup_pipeline(api)
    other = await second_pipeline(api, pipeline, "other")
    a = await add_node(api, pipeline, "a")
    set_status_in_db(database_url, {a["id"]: "completed"})
    (Path(a["folder"]) / "data" / "out.txt").write_text("shared result")
    await api(
        "POST",
        f"pipelines/{pipeline['id']}/reference-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": other["id"]},
    )
    x = await add_node(api, other, "x")
    await connect(api, other, a, x)

    status, body = await api("POST", f"pipelines/{other['id']}/detach", {"node_id": a["id"]})
    assert status == 201
    copy_id = body["id_map"][a["id"]]
    graph = await graph_of(api, other["id"])
    nodes = by_tag(graph)
    assert nodes["a"]["id"] == copy_id and not nodes["a"]["referenced"]
    assert nodes["a"]["status"] == "completed"
    assert (Path(nodes["a"]["folder"]) / "data" / "out.txt").read_text() == "shared result"
    assert edges_by_tag(graph) == {("a", "x", "01")}
    assert by_tag(await graph_of(api, pipeline["id"]))["a"]["referenced"] is False
    assert writable(a["folder"]) and writable(nodes["a"]["folder"])

    status, body = await api("POST", f"pipelines/{other['id']}/detach", {"node_id": x["id"]})
    assert status == 409, "nothing shared below x"
