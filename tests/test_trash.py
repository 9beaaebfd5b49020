"""The trash: deleting keeps rows and folders aside, restoring brings them back exactly, a
restore that cannot be refuses with the reason and changes nothing, purging deletes for good
(by hand, by the CLI, and by itself once past its time)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from test_nodes_api import add_node, connect
from test_runs_api import wait_run
from test_undo_after_folders import refuse_commits, tree
from users import SeveralUsers, as_user


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ServerApp"]["identity_provider_class"] = SeveralUsers
    jp_server_config["FusionpipeApp"]["admins"] = ["carol"]
    return jp_server_config


ROW_TABLES = (
    "projects",
    "pipelines",
    "pipeline_lineage",
    "nodes",
    "node_groups",
    "pipeline_nodes",
    "edges",
    "node_files",
    "runs",
    "run_nodes",
    "run_node_attempts",
)


def rows(database_url):
    """Every row of the model, by table, to compare before a delete and after a restore. The
    stat cache's ``hashed_at_ns`` is left out: a check after the restore may hash a file again
    (same hash), which is the cache's business."""
    with psycopg.connect(database_url) as conn:
        return {
            table: sorted(
                json.dumps(row[0], sort_keys=True)
                for row in conn.execute(f"SELECT to_jsonb(t) - 'hashed_at_ns' FROM {table} t")
            )
            for table in ROW_TABLES
        }


async def a_pipeline_that_ran(api, tag="p"):
    """alice's pipeline a -> b (run, so with history, outputs and the stat cache) and a group,
    plus a node shared with another pipeline of hers."""
    alice = as_user(api, "alice")
    _, project = await alice("POST", "projects", {"tag": f"project-{tag}"})
    _, pipeline = await alice("POST", "pipelines", {"project_id": project["id"], "tag": tag})
    a, b = await add_node(alice, pipeline, "a"), await add_node(alice, pipeline, "b")
    await connect(alice, pipeline, a, b)
    Path(a["folder"], "code", "main.py").write_text(
        "import fusionpipe\n(fusionpipe.data_dir() / 'out.txt').write_text('made')\n"
    )
    _, run = await alice("POST", f"pipelines/{pipeline['id']}/runs", {})
    assert (await wait_run(api, run["id"]))["status"] == "completed"
    status, _ = await alice(
        "POST", f"pipelines/{pipeline['id']}/groups", {"node_ids": [b["id"]], "tag": "g"}
    )
    assert status == 201
    _, other = await alice("POST", "pipelines", {"project_id": project["id"], "tag": f"{tag}-2"})
    shared = await add_node(alice, other, "shared")
    status, _ = await alice(
        "POST",
        f"pipelines/{other['id']}/reference-nodes",
        {"node_ids": [shared["id"]], "target_pipeline_id": pipeline["id"]},
    )
    assert status == 204
    return project, pipeline, (a, b, shared)


async def settled(api, timeout=30.0):
    """Wait for the staleness checks a change sets off: they write to the rows compared."""
    staleness = api.service.staleness
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        busy = (
            staleness._wanted_nodes or staleness._wanted_pipelines or staleness._checking.locked()
        )
        quiet = 0 if busy else quiet + 1


async def test_delete_then_restore_brings_back_rows_and_folders_exactly(
    api, database_url, data_path
):
    project, pipeline, (a, b, shared) = await a_pipeline_that_ran(api)
    alice, bob, carol = as_user(api, "alice"), as_user(api, "bob"), as_user(api, "carol")
    await settled(api)
    before_rows, before_tree = rows(database_url), tree(data_path)
    # What goes with a pipeline is really there to be lost, and to come back.
    for table in ("runs", "run_nodes", "run_node_attempts", "node_files", "node_groups"):
        assert before_rows[table], table
    _, graph_before = await alice("GET", f"pipelines/{pipeline['id']}")

    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    # Gone from every listing, graph and lookup; its own nodes' folders moved aside inside
    # the data folder; the shared node stays with the other pipeline.
    assert (await alice("GET", f"pipelines/{pipeline['id']}"))[0] == 404
    _, listed = await alice("GET", f"pipelines?project_id={project['id']}")
    assert [p["tag"] for p in listed["pipelines"]] == ["p-2"]
    assert (await alice("GET", f"nodes/{a['id']}"))[0] == 404
    assert (await alice("GET", f"nodes/{shared['id']}"))[0] == 200
    assert not Path(a["folder"]).exists() and not Path(b["folder"]).exists()
    assert Path(shared["folder"]).exists()
    aside = sorted(p.name for p in Path(a["folder"]).parent.iterdir() if ".deleted-" in p.name)
    assert len(aside) == 2 and all(name.startswith(".n_") for name in aside)
    assert Path(a["folder"]).parent / aside[0] != data_path

    # The trash: alice (who deleted it and owns it) and admins see it; bob does not.
    _, trash = await alice("GET", "trash")
    (item,) = trash["items"]
    assert (item["kind"], item["item_id"], item["tag"], item["owner"], item["deleted_by"]) == (
        "pipeline",
        pipeline["id"],
        "p",
        "alice",
        "alice",
    )
    assert item["counts"] == {"pipelines": 1, "nodes": 2}
    assert (await carol("GET", "trash"))[1]["items"] == [item]
    assert (await bob("GET", "trash"))[1]["items"] == []
    status, answer = await bob("POST", f"trash/{item['id']}/restore")
    assert status == 403 and "only alice" in answer["message"]

    status, restored = await alice("POST", f"trash/{item['id']}/restore")
    assert (status, restored["id"]) == (200, item["id"])
    await settled(api)
    assert rows(database_url) == before_rows
    assert tree(data_path) == before_tree
    assert Path(a["folder"], "data", "out.txt").read_text() == "made"
    _, graph_after = await alice("GET", f"pipelines/{pipeline['id']}")
    assert graph_after == graph_before
    assert (await alice("GET", "trash"))[1]["items"] == []
    # Its node kernels are offered again.
    assert (data_path / ".fusionpipe" / "kernels" / f"fusionpipe-{a['id']}").is_dir()


async def test_a_deleted_node_comes_back_with_its_edges(api, database_url, data_path):
    _, pipeline, (a, b, _) = await a_pipeline_that_ran(api)
    alice = as_user(api, "alice")
    await settled(api)
    before_tree = tree(data_path)
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}/nodes/{a['id']}"))[0] == 204
    _, graph = await alice("GET", f"pipelines/{pipeline['id']}")
    assert graph["edges"] == [] and "a" not in {n["tag"] for n in graph["nodes"]}
    (item,) = (await alice("GET", "trash"))[1]["items"]
    assert (item["kind"], item["pipeline_id"]) == ("node", pipeline["id"])
    assert (await alice("POST", f"trash/{item['id']}/restore"))[0] == 200
    _, graph = await alice("GET", f"pipelines/{pipeline['id']}")
    assert [(e["source"], e["target"]) for e in graph["edges"]] == [(a["id"], b["id"])]
    assert tree(data_path) == before_tree
    identity = json.loads(Path(b["folder"], ".fusionpipe-node.json").read_text())
    assert [p["id"] for p in identity["parents"]] == [a["id"]]


async def test_a_restore_that_cannot_be_says_why_and_changes_nothing(api, data_path):
    project, pipeline, (a, _, _) = await a_pipeline_that_ran(api)
    alice = as_user(api, "alice")
    # The tag is taken meanwhile.
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    (item,) = (await alice("GET", "trash"))[1]["items"]
    _, usurper = await alice("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    before = tree(data_path)
    status, answer = await alice("POST", f"trash/{item['id']}/restore")
    assert status == 409
    assert "another pipeline is now tagged 'p'" in answer["message"]
    assert tree(data_path) == before
    assert [i["id"] for i in (await alice("GET", "trash"))[1]["items"]] == [item["id"]]
    # Its project goes to the trash too: restoring the pipeline must wait for the project.
    assert (await alice("DELETE", f"pipelines/{usurper['id']}"))[0] == 204
    status, _ = await alice("DELETE", f"projects/{project['id']}?cascade=true")
    assert status == 204
    status, answer = await alice("POST", f"trash/{item['id']}/restore")
    assert status == 409
    assert f"its project {project['id']} is itself in the trash" in answer["message"]
    assert "restore that first" in answer["message"]
    project_item = next(
        i for i in (await alice("GET", "trash"))[1]["items"] if i["kind"] == "project"
    )
    assert (await alice("POST", f"trash/{project_item['id']}/restore"))[0] == 200
    assert (await alice("POST", f"trash/{item['id']}/restore"))[0] == 200
    assert Path(a["folder"], "data", "out.txt").read_text() == "made"


async def test_a_node_waits_for_its_pipeline(api):
    _, pipeline, (a, _, _) = await a_pipeline_that_ran(api)
    alice = as_user(api, "alice")
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}/nodes/{a['id']}"))[0] == 204
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    node_item = next(i for i in (await alice("GET", "trash"))[1]["items"] if i["kind"] == "node")
    status, answer = await alice("POST", f"trash/{node_item['id']}/restore")
    assert status == 409
    assert f"its pipeline {pipeline['id']} is itself in the trash" in answer["message"]


async def test_a_restore_that_fails_at_commit_leaves_nothing_half_made(
    api, database_url, data_path
):
    _, pipeline, (a, _, _) = await a_pipeline_that_ran(api)
    alice = as_user(api, "alice")
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    (item,) = (await alice("GET", "trash"))[1]["items"]
    before_rows, before_tree = rows(database_url), tree(data_path)
    refuse_commits(database_url, "INSERT")
    status, _ = await alice("POST", f"trash/{item['id']}/restore")
    assert status == 500
    assert rows(database_url) == before_rows
    assert tree(data_path) == before_tree
    assert not Path(a["folder"]).exists()
    assert [i["id"] for i in (await alice("GET", "trash"))[1]["items"]] == [item["id"]]


async def test_purging_deletes_rows_and_folders_for_good(api, data_path):
    _, pipeline, (a, b, _) = await a_pipeline_that_ran(api)
    alice, bob = as_user(api, "alice"), as_user(api, "bob")
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    (item,) = (await alice("GET", "trash"))[1]["items"]
    kept = [p for p in data_path.rglob("*") if ".deleted-" in p.name]
    assert sorted(p.name.split(".")[1] for p in kept) == sorted([a["id"], b["id"]])
    assert (await bob("DELETE", f"trash/{item['id']}"))[0] == 403
    assert all(p.is_dir() for p in kept)
    assert (await alice("DELETE", f"trash/{item['id']}"))[0] == 204
    assert not any(p.exists() for p in kept)
    assert not Path(a["folder"]).exists() and not Path(b["folder"]).exists()
    assert not [p for p in data_path.rglob("*") if ".deleted-" in p.name]
    assert (await alice("POST", f"trash/{item['id']}/restore"))[0] == 404

    # Emptying takes only what is old enough, and only one's own.
    _, project = await bob("POST", "projects", {"tag": "bobs"})
    _, theirs = await bob("POST", "pipelines", {"project_id": project["id"], "tag": "bobs"})
    await add_node(bob, theirs, "x")
    assert (await bob("DELETE", f"pipelines/{theirs['id']}"))[0] == 204
    status, answer = await alice("DELETE", "trash")
    assert (status, answer["purged"]) == (200, [])
    status, answer = await bob("DELETE", "trash?older_than_days=1")
    assert (status, answer["purged"]) == (200, [])
    status, answer = await bob("DELETE", "trash")
    assert [i["tag"] for i in answer["purged"]] == ["bobs"]
    assert not [p for p in data_path.rglob("*") if ".deleted-" in p.name]


@pytest.fixture
def expiring(jp_server_config):
    jp_server_config["FusionpipeApp"]["trash_days"] = 0.0
    jp_server_config["FusionpipeApp"]["trash_purge_interval"] = 0.2
    return jp_server_config


async def test_what_is_past_its_time_is_purged_by_itself(expiring, api, data_path):
    alice = as_user(api, "alice")
    _, project = await alice("POST", "projects", {"tag": "short"})
    _, pipeline = await alice("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    node = await add_node(alice, pipeline, "n")
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    deadline = time.monotonic() + 10
    while (await alice("GET", "trash"))[1]["items"] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert (await alice("GET", "trash"))[1]["items"] == []
    assert not [p for p in data_path.rglob("*") if ".deleted-" in p.name]
    assert not Path(node["folder"]).exists()


def fusionpipe(*args, database_url, data_path):
    return subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)},
        timeout=120,
    )


async def test_the_admin_command_lists_and_empties_the_trash(api, database_url, data_path):
    import getpass

    me = as_user(api, getpass.getuser())
    _, project = await me("POST", "projects", {"tag": "cli"})
    _, pipeline = await me("POST", "pipelines", {"project_id": project["id"], "tag": "cli-p"})
    await add_node(me, pipeline, "n")
    assert (await me("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    (item,) = (await me("GET", "trash"))[1]["items"]

    listed = await asyncio.to_thread(
        fusionpipe, "admin", "trash", database_url=database_url, data_path=data_path
    )
    assert listed.returncode == 0, listed.stderr
    assert f"{item['id']}  pipeline 'cli-p' ({pipeline['id']}) with 1 nodes" in listed.stdout
    restored = await asyncio.to_thread(
        fusionpipe,
        "admin",
        "trash",
        "restore",
        item["id"],
        database_url=database_url,
        data_path=data_path,
    )
    assert restored.returncode == 0, restored.stderr
    assert f"restored pipeline 'cli-p' ({pipeline['id']})" in restored.stdout
    assert (await me("GET", f"pipelines/{pipeline['id']}"))[0] == 200
    assert (await me("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    kept = await asyncio.to_thread(
        fusionpipe,
        "admin",
        "trash",
        "empty",
        "--older-than",
        "1",
        database_url=database_url,
        data_path=data_path,
    )
    assert kept.returncode == 0 and "purged 0 item(s)" in kept.stdout, kept.stderr
    emptied = await asyncio.to_thread(
        fusionpipe, "admin", "trash", "empty", database_url=database_url, data_path=data_path
    )
    assert emptied.returncode == 0 and "purged 1 item(s)" in emptied.stdout, emptied.stderr
    assert not [p for p in data_path.rglob("*") if ".deleted-" in p.name]
    again = await asyncio.to_thread(
        fusionpipe, "admin", "trash", database_url=database_url, data_path=data_path
    )
    assert "the trash is empty" in again.stdout


async def test_nothing_running_goes_to_the_trash(api, tmp_path):
    alice = as_user(api, "alice")
    _, project = await alice("POST", "projects", {"tag": "busy"})
    _, pipeline = await alice("POST", "pipelines", {"project_id": project["id"], "tag": "busy"})
    node = await add_node(alice, pipeline, "sleeper")
    started = tmp_path / "started"
    Path(node["folder"], "code", "main.py").write_text(
        f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(60)\n"
    )
    _, run = await alice("POST", f"pipelines/{pipeline['id']}/runs", {})
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for path in (f"pipelines/{pipeline['id']}/nodes/{node['id']}", f"pipelines/{pipeline['id']}"):
        status, answer = await alice("DELETE", path)
        assert status == 409 and "kill" in answer["message"], answer
    status, answer = await alice("DELETE", f"projects/{project['id']}?cascade=true")
    assert status == 409 and "while its nodes run: 'sleeper'" in answer["message"]
    await alice("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill")
    assert (await wait_run(api, run["id"]))["status"] == "failed"
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204


async def test_two_restores_of_one_item_at_once_restore_it_once(api, database_url, data_path):
    _, pipeline, (a, _, _) = await a_pipeline_that_ran(api)
    alice = as_user(api, "alice")
    await settled(api)
    before = rows(database_url)
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    (item,) = (await alice("GET", "trash"))[1]["items"]
    restore = f"trash/{item['id']}/restore"
    answers = await asyncio.gather(alice("POST", restore), alice("POST", restore))
    # The loser always reads the item gone, whether it lost before or after its first read.
    assert sorted(status for status, _ in answers) == [200, 404], answers
    refused = next(answer for status, answer in answers if status == 404)
    assert "it was restored or purged" in refused["message"]
    await settled(api)
    assert rows(database_url) == before
    assert Path(a["folder"], "data", "out.txt").read_text() == "made"
    assert (await alice("GET", "trash"))[1]["items"] == []
    # A purge racing a restore: one of them wins, whole, and the other says so.
    assert (await alice("DELETE", f"pipelines/{pipeline['id']}"))[0] == 204
    (item,) = (await alice("GET", "trash"))[1]["items"]
    restored, purged = await asyncio.gather(
        alice("POST", f"trash/{item['id']}/restore"), alice("DELETE", f"trash/{item['id']}")
    )
    assert sorted([restored[0], purged[0]]) in ([200, 404], [204, 404]), (restored, purged)
    exists = Path(a["folder"]).exists()
    assert exists == (restored[0] == 200)
    assert (await alice("GET", "trash"))[1]["items"] == []
