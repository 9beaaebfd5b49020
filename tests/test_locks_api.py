"""A locked pipeline freezes its nodes: the lock is derived, never copied onto the node."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import psycopg
from test_nodes_api import add_node, connect, set_status_in_db, setup_pipeline
from test_runs_api import graph_nodes, outcome, run, write_code


def own_lock_in_db(database_url, node_id):
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT locked FROM nodes WHERE id = %s", (node_id,)).fetchone()
    assert row is not None
    return row[0]


async def lock(api, pipeline, locked=True):
    return await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": locked})


def writable(path: Path) -> bool:
    return os.stat(path).st_mode & 0o200 != 0


async def test_a_locked_pipeline_locks_its_nodes_without_copying_the_lock(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await api("PATCH", f"pipelines/{pipeline['id']}/nodes/{b['id']}", {"locked": True})

    status, _ = await lock(api, pipeline)
    assert status == 200
    nodes = await graph_nodes(api, pipeline)
    assert nodes["a"]["locked"] and nodes["b"]["locked"]
    by_pipeline = {"kind": "pipeline", "id": pipeline["id"], "tag": pipeline["tag"]}
    assert nodes["a"]["locked_by"] == by_pipeline
    assert nodes["b"]["locked_by"] == {"kind": "node"}, "its own lock is the reason shown"
    assert not own_lock_in_db(database_url, a["id"]), "the lock was copied onto the node"
    _, details = await api("GET", f"nodes/{a['id']}")
    assert details["locked"] and details["locked_by"] == by_pipeline

    status, _ = await lock(api, pipeline, False)
    assert status == 200
    nodes = await graph_nodes(api, pipeline)
    assert (nodes["a"]["locked"], nodes["a"]["locked_by"]) == (False, None)
    assert nodes["b"]["locked"], "unlocking the pipeline freed a node locked itself"


async def test_nothing_in_a_locked_pipeline_changes_its_outputs_or_status(api, database_url):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    set_status_in_db(database_url, {a["id"]: "completed", b["id"]: "staledata"})
    result = Path(b["folder"]) / "data" / "result.txt"
    result.write_text("published")
    assert (await lock(api, pipeline))[0] == 200
    url = f"pipelines/{pipeline['id']}"

    for path, body in (
        (f"{url}/status", {"node_ids": [a["id"]], "status": "staledata"}),
        (f"{url}/status", {"node_ids": [b["id"]], "status": "completed"}),
        (f"{url}/clear-outputs", {"node_ids": [a["id"]]}),
    ):
        status, answer = await api("POST", path, body)
        assert status == 409, (path, answer)
        assert f"locked pipeline {pipeline['tag']!r}" in answer["message"]
        assert "unlock that pipeline" in answer["message"]
    status, answer = await api("PUT", f"nodes/{a['id']}/parameters", {"content": "x: 1\n"})
    assert status == 409 and "locked pipeline" in answer["message"]
    status, answer = await api("PATCH", f"{url}/nodes/{a['id']}", {"tag": "renamed"})
    assert status == 409 and "locked" in answer["message"]
    status, _ = await api("PATCH", f"{url}/nodes/{a['id']}", {"position": {"x": 5, "y": 5}})
    assert status == 200, "layout still moves in a locked pipeline"

    # A run plans nothing: the stale node keeps its outputs and its status.
    finished = await run(api, pipeline)
    assert outcome(finished) == {a["id"]: "skipped", b["id"]: "skipped"}
    assert {n["reason"] for n in finished["nodes"]} == {"up to date", "locked"}
    assert result.read_text() == "published"
    nodes = await graph_nodes(api, pipeline)
    assert (nodes["a"]["status"], nodes["b"]["status"]) == ("completed", "staledata")

    # Unlocked, the same requests go through.
    assert (await lock(api, pipeline, False))[0] == 200
    status, _ = await api("POST", f"{url}/clear-outputs", {"node_ids": [b["id"]]})
    assert status == 204
    assert not result.exists()


async def test_a_node_shared_with_a_locked_pipeline_is_locked_everywhere(api):
    published, working = await setup_pipeline(api, "published"), await setup_pipeline(api, "work")
    shared = await add_node(api, published, "shared")
    status, _ = await api(
        "POST",
        f"pipelines/{published['id']}/reference-nodes",
        {"node_ids": [shared["id"]], "target_pipeline_id": working["id"]},
    )
    assert status == 204
    assert (await lock(api, published))[0] == 200

    nodes = await graph_nodes(api, working)
    assert nodes["shared"]["locked"]
    assert nodes["shared"]["locked_by"]["tag"] == "published"
    status, answer = await api(
        "POST",
        f"pipelines/{working['id']}/status",
        {"node_ids": [shared["id"]], "status": "staledata"},
    )
    assert status == 409 and "locked pipeline 'published'" in answer["message"]
    detach = f"pipelines/{working['id']}/detach"
    status, answer = await api("POST", detach, {"node_id": shared["id"]})
    assert status == 409 and "locked pipeline 'published'" in answer["message"]
    # Its own lock is still its own: unlocking the node does not free it from the pipeline.
    url = f"pipelines/{working['id']}/nodes/{shared['id']}"
    status, answer = await api("PATCH", url, {"locked": False, "notes": "n"})
    assert status == 409 and "locked pipeline 'published'" in answer["message"]


async def test_locking_makes_folders_read_only_and_unlocking_gives_them_back(api):
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await api("PATCH", f"pipelines/{pipeline['id']}/nodes/{b['id']}", {"locked": True})
    data_a, data_b = Path(a["folder"]) / "data", Path(b["folder"]) / "data"
    assert writable(data_a) and not writable(data_b)

    await lock(api, pipeline)
    assert not writable(data_a) and not writable(Path(a["folder"]) / "code" / "main.py")
    await lock(api, pipeline, False)
    assert writable(data_a), "the pipeline's unlock left its node read-only"
    assert not writable(data_b), "a node locked itself became writable"


async def test_locking_a_pipeline_while_a_node_runs_is_refused(api, tmp_path):
    pipeline = await setup_pipeline(api)
    a = await add_node(api, pipeline, "a")
    release = tmp_path / "release"
    write_code(
        a,
        f"""
        import pathlib, time
        while not pathlib.Path({str(release)!r}).exists():
            time.sleep(0.02)
        """,
    )
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})
    assert status == 202
    deadline = time.monotonic() + 30
    while (await graph_nodes(api, pipeline))["a"]["status"] != "running":
        assert time.monotonic() < deadline, "the node never started"
        await asyncio.sleep(0.05)

    status, answer = await lock(api, pipeline)
    assert status == 409
    assert "cannot be locked while its nodes run: 'a'" in answer["message"]
    _, current = await api("GET", f"pipelines/{pipeline['id']}")
    assert current["locked"] is False

    release.touch()
    deadline = time.monotonic() + 30
    while (await api("GET", f"runs/{started['id']}"))[1]["status"] != "completed":
        assert time.monotonic() < deadline, "the run never finished"
        await asyncio.sleep(0.05)
    assert (await lock(api, pipeline))[0] == 200


async def test_each_node_says_why_it_is_read_only_in_the_words_the_panel_shows(api):
    """The panel shows ``read_only_reason`` as it comes: the server alone decides it."""
    published, working = await setup_pipeline(api, "published"), await setup_pipeline(api, "work")
    own, frozen = await add_node(api, working, "own"), await add_node(api, published, "frozen")
    shared, free = await add_node(api, working, "shared"), await add_node(api, working, "free")
    await api("PATCH", f"pipelines/{working['id']}/nodes/{own['id']}", {"locked": True})
    status, _ = await api(
        "POST",
        f"pipelines/{working['id']}/reference-nodes",
        {"node_ids": [shared["id"]], "target_pipeline_id": published["id"]},
    )
    assert status == 204
    nodes = await graph_nodes(api, working)
    reasons = {tag: node["read_only_reason"] for tag, node in nodes.items()}
    assert reasons == {
        "own": "the node is locked: unlock it to change it",
        "shared": "the node is shared with other pipelines (referenced): detach it to change it",
        "free": None,
    }

    # A locked pipeline freezes its nodes, the shared one too; a node's own lock still wins.
    assert (await lock(api, published))[0] == 200
    frozen_by = (
        'pipeline "published" is locked, which freezes its nodes: unlock that pipeline to change it'
    )
    nodes = await graph_nodes(api, published)
    assert nodes["frozen"]["read_only_reason"] == frozen_by
    assert (await graph_nodes(api, working))["shared"]["read_only_reason"] == frozen_by
    await api("PATCH", f"pipelines/{published['id']}/nodes/{frozen['id']}", {"locked": True})
    assert (await graph_nodes(api, published))["frozen"]["read_only_reason"] == reasons["own"]

    # The node's details (the inspector) and a node's change answer say the same.
    _, details = await api("GET", f"nodes/{shared['id']}")
    assert details["read_only_reason"] == frozen_by
    status, moved = await api(
        "PATCH", f"pipelines/{working['id']}/nodes/{free['id']}", {"position": {"x": 1, "y": 2}}
    )
    assert status == 200 and moved["read_only_reason"] is None

    # Unlocked and detached: nothing holds it back any more.
    assert (await lock(api, published, False))[0] == 200
    status, _ = await api("POST", f"pipelines/{working['id']}/detach", {"node_id": shared["id"]})
    assert status < 300
    assert all(
        node["read_only_reason"] is None
        for tag, node in (await graph_nodes(api, working)).items()
        if tag != "own"
    )
