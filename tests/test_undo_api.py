"""Undo and redo of graph edits over REST: each user's own stack per pipeline, kept by the
server, refused when a colleague changed the same object since, or when the pipeline is
locked; a node's deletion undone through the trash."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nodes_api import add_node, connect, setup_pipeline
from users import SeveralUsers, as_user


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ServerApp"]["identity_provider_class"] = SeveralUsers
    return jp_server_config


async def graph(api, pipeline):
    status, found = await api("GET", f"pipelines/{pipeline['id']}")
    assert status == 200
    return found


async def undo(api, pipeline, verb="undo"):
    return await api("POST", f"pipelines/{pipeline['id']}/{verb}")


async def stacks(api, pipeline):
    status, found = await api("GET", f"pipelines/{pipeline['id']}/undo")
    assert status == 200
    return found


def labels(found):
    return [(step or {}).get("label") for step in (found["undo"], found["redo"])]


def shape(found):
    """What a user sees of a graph: tags, notes, locks, places, groups, edges by tags."""
    tags = {n["id"]: n["tag"] for n in found["nodes"]}
    return {
        "nodes": sorted(
            (n["tag"], n["notes"], n["locked"], n["position"]["x"], n["position"]["y"])
            for n in found["nodes"]
        ),
        "grouped": sorted((n["tag"], n["group"] is not None) for n in found["nodes"]),
        "edges": sorted((tags[e["source"]], tags[e["target"]], e["slot"]) for e in found["edges"]),
        "groups": sorted(
            (g["tag"], g["collapsed"], g["position"]["x"], g["size"]["width"])
            for g in found["groups"]
        ),
    }


async def test_every_kind_of_edit_undoes_and_redoes_exactly(api):
    alice = as_user(api, "alice")
    pipeline = await setup_pipeline(alice)
    pid = pipeline["id"]
    a = await add_node(alice, pipeline, "a", position={"x": 0, "y": 0})
    b = await add_node(alice, pipeline, "b", position={"x": 300, "y": 0})
    _, edge = await connect(alice, pipeline, a, b)
    _, group = await alice("POST", f"pipelines/{pid}/groups", {"node_ids": [a["id"]], "tag": "g"})
    node_url = f"pipelines/{pid}/nodes/{a['id']}"
    box = {"position": {"x": -5, "y": -5}, "size": {"width": 99, "height": 80}}
    edits = [
        ("new node 'c'", "POST", f"pipelines/{pid}/nodes", {"tag": "c"}),
        ("rename of node 'a'", "PATCH", node_url, {"tag": "fit"}),
        ("notes of node 'fit'", "PATCH", node_url, {"notes": "why"}),
        ("lock of node 'fit'", "PATCH", node_url, {"locked": True}),
        ("unlock of node 'fit'", "PATCH", node_url, {"locked": False}),
        ("move of node 'fit'", "POST", f"pipelines/{pid}/positions",
         {"positions": {a["id"]: {"x": 50, "y": 60}}}),
        ("auto layout", "POST", f"pipelines/{pid}/positions",
         {"positions": {a["id"]: {"x": 1, "y": 2}, b["id"]: {"x": 3, "y": 4}},
          "groups": {group["id"]: box},
          "auto_layout": True}),
        ("rename of group 'g'", "PATCH", f"groups/{group['id']}", {"tag": "h"}),
        ("collapse of group 'h'", "PATCH", f"groups/{group['id']}", {"collapsed": True}),
        ("deletion of group 'h'", "DELETE", f"groups/{group['id']}", None),
        ("new group 'k'", "POST", f"pipelines/{pid}/groups", {"node_ids": [b["id"]], "tag": "k"}),
        ("deletion of edge 'fit' → 'b'", "DELETE", f"pipelines/{pid}/edges/{edge['id']}", None),
        ("new edge 'b' → 'fit'", "POST", f"pipelines/{pid}/edges",
         {"source": b["id"], "target": a["id"]}),
        ("copy of 2 nodes", "POST", f"pipelines/{pid}/duplicate-nodes",
         {"node_ids": [a["id"], b["id"]], "target_pipeline_id": pid}),
        ("deletion of node 'b'", "DELETE", f"pipelines/{pid}/nodes/{b['id']}", None),
    ]  # fmt: skip
    for label, method, path, body in edits:
        before = shape(await graph(alice, pipeline))
        status, answer = await alice(method, path, body)
        assert status in (200, 201, 204), (label, answer)
        after = shape(await graph(alice, pipeline))
        assert after != before, label
        assert labels(await stacks(alice, pipeline)) == [f"Undo {label}", None]

        status, done = await undo(alice, pipeline)
        assert (status, done["done"]) == (200, label), done
        assert shape(await graph(alice, pipeline)) == before, f"undo of {label}"
        assert labels(done)[1] == f"Redo {label}"

        status, done = await undo(alice, pipeline, "redo")
        assert status == 200, done
        assert shape(await graph(alice, pipeline)) == after, f"redo of {label}"
    # The whole history unwinds to where it started.
    for label, *_ in reversed(edits):
        status, done = await undo(alice, pipeline)
        assert (status, done["done"]) == (200, label), done
    found = shape(await graph(alice, pipeline))
    assert found["edges"] == [("a", "b", "01")] and found["groups"][0][0] == "g"


async def test_stacks_are_per_user_and_per_pipeline(api):
    alice, bob = as_user(api, "alice"), as_user(api, "bob")
    pipeline, other = await setup_pipeline(alice), await setup_pipeline(alice, "q")
    await add_node(alice, pipeline, "alices")
    await add_node(bob, pipeline, "bobs")
    await add_node(alice, other, "elsewhere")

    assert labels(await stacks(alice, pipeline)) == ["Undo new node 'alices'", None]
    assert labels(await stacks(bob, pipeline)) == ["Undo new node 'bobs'", None]
    status, done = await undo(alice, pipeline)
    assert (status, done["done"]) == (200, "new node 'alices'")
    assert [n["tag"] for n in (await graph(alice, pipeline))["nodes"]] == ["bobs"]
    assert [n["tag"] for n in (await graph(alice, other))["nodes"]] == ["elsewhere"]
    # Nothing left for alice here: her undo never reaches bob's edit.
    status, answer = await undo(alice, pipeline)
    assert status == 409 and "nothing to undo" in answer["message"]
    assert [n["tag"] for n in (await graph(alice, pipeline))["nodes"]] == ["bobs"]


async def test_an_undo_never_reverts_a_colleagues_later_change(api):
    alice, bob = as_user(api, "alice"), as_user(api, "bob")
    pipeline = await setup_pipeline(alice)
    node = await add_node(alice, pipeline, "fit")
    url = f"pipelines/{pipeline['id']}/nodes/{node['id']}"
    assert (await alice("PATCH", url, {"notes": "mine"}))[0] == 200
    assert (await bob("PATCH", url, {"tag": "fit2"}))[0] == 200
    assert (await alice("PATCH", url, {"tag": "fit3"}))[0] == 200
    assert (await bob("PATCH", url, {"tag": "fit4"}))[0] == 200

    status, answer = await undo(alice, pipeline)
    assert status == 409
    assert answer["message"] == (
        "cannot undo rename of node 'fit2': node 'fit3' was renamed by bob since"
    )
    assert (await graph(alice, pipeline))["nodes"][0]["tag"] == "fit4", "nothing changed"
    # Once bob took his change back, alice's undo goes through.
    assert (await undo(bob, pipeline))[0] == 200
    assert (await undo(alice, pipeline))[0] == 200
    assert (await graph(alice, pipeline))["nodes"][0]["tag"] == "fit2"


async def test_a_colleagues_edge_on_a_new_node_keeps_it(api):
    alice, bob = as_user(api, "alice"), as_user(api, "bob")
    pipeline = await setup_pipeline(alice)
    parent = await add_node(bob, pipeline, "parent")
    new = await add_node(alice, pipeline, "new")
    assert (await connect(bob, pipeline, parent, new))[0] == 201
    status, answer = await undo(alice, pipeline)
    assert (status, answer["message"]) == (
        409,
        "cannot undo new node 'new': node 'new' was connected to 'parent' by bob since",
    )
    assert len((await graph(alice, pipeline))["nodes"]) == 2


async def test_a_new_edit_empties_the_redo_stack(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "a")
    url = f"pipelines/{pipeline['id']}/nodes/{node['id']}"
    await api("PATCH", url, {"tag": "b"})
    assert (await undo(api, pipeline))[0] == 200
    assert labels(await stacks(api, pipeline)) == ["Undo new node 'a'", "Redo rename of node 'a'"]
    await api("PATCH", url, {"notes": "n"})
    assert labels(await stacks(api, pipeline)) == ["Undo notes of node 'a'", None]
    status, answer = await undo(api, pipeline, "redo")
    assert status == 409 and "nothing to redo" in answer["message"]


async def test_a_locked_pipeline_refuses_undo_and_redo(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "a")
    await api("PATCH", f"pipelines/{pipeline['id']}/nodes/{node['id']}", {"tag": "b"})
    assert (await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": True}))[0] == 200
    status, answer = await undo(api, pipeline)
    assert (status, answer["message"]) == (
        409,
        f"pipeline 'p' ({pipeline['id']}) is locked: unlock it first",
    )
    assert (await graph(api, pipeline))["nodes"][0]["tag"] == "b"
    assert (await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": False}))[0] == 200
    assert (await undo(api, pipeline))[0] == 200
    assert (await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": True}))[0] == 200
    assert (await undo(api, pipeline, "redo"))[0] == 409


async def test_a_locked_node_is_not_renamed_back(api):
    pipeline, other = await setup_pipeline(api), await setup_pipeline(api, "q")
    node = await add_node(api, pipeline, "a")
    url = f"pipelines/{pipeline['id']}/nodes/{node['id']}"
    await api("PATCH", url, {"tag": "b"})
    # Locked by a colleague since: a later change of the node.
    assert (await as_user(api, "bob")("PATCH", url, {"locked": True}))[0] == 200
    status, answer = await undo(api, pipeline)
    assert (status, answer["message"]) == (
        409,
        "cannot undo rename of node 'a': node 'b' was locked by bob since",
    )
    assert (await undo(as_user(api, "bob"), pipeline))[0] == 200
    # Frozen by another locked pipeline that holds it: the lock rule says why.
    body = {"node_ids": [node["id"]], "target_pipeline_id": other["id"]}
    assert (await api("POST", f"pipelines/{pipeline['id']}/reference-nodes", body))[0] == 204
    assert (await api("PATCH", f"pipelines/{other['id']}", {"locked": True}))[0] == 200
    status, answer = await undo(api, pipeline)
    assert status == 409 and "frozen by locked pipeline 'q'" in answer["message"]
    assert (await graph(api, pipeline))["nodes"][0]["tag"] == "b"


async def test_a_deleted_node_comes_back_from_the_trash_with_its_edges(api):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    (Path(a["folder"]) / "code" / "work.py").write_text("kept")
    assert (await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{a['id']}"))[0] == 204
    assert len((await api("GET", "trash"))[1]["items"]) == 1

    status, done = await undo(api, pipeline)
    assert (status, done["done"]) == (200, "deletion of node 'a'")
    found = shape(await graph(api, pipeline))
    assert found["edges"] == [("a", "b", "01")]
    assert (Path(a["folder"]) / "code" / "work.py").read_text() == "kept"
    assert (await api("GET", "trash"))[1]["items"] == []
    # Redone, it is in the trash again: purged there, its undo is refused clearly.
    assert (await undo(api, pipeline, "redo"))[0] == 200
    (item,) = (await api("GET", "trash"))[1]["items"]
    assert (await api("DELETE", f"trash/{item['id']}"))[0] == 204
    status, answer = await undo(api, pipeline)
    assert (status, answer["message"]) == (
        409,
        "cannot undo deletion of node 'a': node 'a' was purged from Recently deleted since, "
        "so it cannot come back",
    )


async def test_unknown_pipeline_and_wrong_verbs(api):
    assert (await api("GET", "pipelines/nope/undo"))[0] == 404
    assert (await api("POST", "pipelines/nope/redo"))[0] == 404
    assert (await api("DELETE", "pipelines/nope/undo"))[0] == 405
