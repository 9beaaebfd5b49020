"""Staleness from content, against real files, a real server and real node processes: what
counts as a change, the reasons, early cutoff, accept, manual stale, the output cache,
provenance, upgrades, and edits seen live without a request."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import psycopg
from test_nodes_api import add_node, connect, setup_pipeline
from test_runs_api import run, write_code

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


async def node_json(api, node):
    status, body = await api("GET", f"nodes/{node['id']}")
    assert status == 200, body
    return body


async def wait_for(condition, timeout=10.0, what="the condition"):
    """Poll ``condition`` (an async callable) until it returns something true."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await condition()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s (last: {last})")


async def checked(api, pipeline):
    """The graph after a check of every node against its files (what a run does first)."""
    staleness = api.service.staleness
    await staleness.check_pipeline(pipeline["id"])
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    return {node["tag"]: node for node in graph["nodes"]}


async def chain(api):
    """a -> b, both run once."""
    pipeline = await setup_pipeline(api)
    a, b = await add_node(api, pipeline, "a"), await add_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    write_code(a, CHAIN_A)
    write_code(b, CHAIN_B)
    finished = await run(api, pipeline)
    assert finished["status"] == "completed", finished
    return pipeline, a, b


def code(node, name="main.py"):
    return Path(node["folder"]) / "code" / name


def reasons(node):
    return [(r["kind"], r["message"]) for r in node["stale_reasons"]]


async def test_touch_comment_and_ignored_files_change_nothing(api):
    pipeline, a, _b = await chain(api)
    os.utime(code(a))  # touched, same content
    params = code(a, "node_parameters.yaml")
    params.write_text(params.read_text() + "\n# a comment only\n")
    for ignored in (".venv/lib/x.py", "__pycache__/m.cpython-311.pyc", "main.py~", ".hidden"):
        path = Path(a["folder"]) / "code" / ignored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("anything")
    (Path(a["folder"]) / "code" / ".fusionpipeignore").write_text("scratch/\n")
    (Path(a["folder"]) / "code" / "scratch").mkdir()
    (Path(a["folder"]) / "code" / "scratch" / "notes.py").write_text("x = 1")
    nodes = await checked(api, pipeline)
    assert {t: n["status"] for t, n in nodes.items()} == {"a": "completed", "b": "completed"}
    assert reasons(nodes["a"]) == [] and reasons(nodes["b"]) == []


async def test_a_code_edit_stales_the_node_with_the_file_named_and_its_children_upstream(api):
    pipeline, a, _b = await chain(api)
    original = code(a).read_text()
    code(a).write_text(original + "\nprint('changed')\n")
    nodes = await checked(api, pipeline)
    assert nodes["a"]["status"] == "staledata"
    assert reasons(nodes["a"]) == [("code", "code/main.py changed")]
    assert nodes["b"]["status"] == "staledata"
    assert reasons(nodes["b"]) == [("upstream", "a is stale")]
    # Undoing the edit undoes the staleness: the content is what the run used.
    code(a).write_text(original)
    nodes = await checked(api, pipeline)
    assert nodes["a"]["status"] == "completed" and nodes["b"]["status"] == "completed"


async def test_a_parameter_edit_names_the_key_and_values(api):
    pipeline, a, _ = await chain(api)
    status, _ = await api("PUT", f"nodes/{a['id']}/parameters", {"content": "value: 2\n"})
    assert status == 200
    nodes = await checked(api, pipeline)
    assert nodes["a"]["status"] == "staledata"
    assert ("parameters", "parameter value added: 2") in reasons(nodes["a"])
    # The REST reply and a node fetch carry the same reasons the graph does.
    fetched = await node_json(api, a)
    assert reasons(fetched) == reasons(nodes["a"]), (
        fetched["status"],
        fetched["stale_reasons"],
        nodes["a"]["stale_reasons"],
    )


async def test_an_executed_notebook_changes_nothing_but_its_code_does(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "nb", kind="notebook")
    finished = await run(api, pipeline)
    assert finished["status"] == "completed", finished
    notebook_path = code(node, "main.ipynb")
    notebook = json.loads(notebook_path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    notebook["metadata"]["kernelspec"]["name"] = "another-kernel"
    notebook_path.write_text(json.dumps(notebook))
    assert (await checked(api, pipeline))["nb"]["status"] == "completed"
    notebook["cells"].append({"cell_type": "code", "source": "x = 1", "metadata": {}})
    notebook_path.write_text(json.dumps(notebook))
    nodes = await checked(api, pipeline)
    assert reasons(nodes["nb"]) == [("code", "code/main.ipynb changed")]


async def test_a_hand_edited_output_stales_the_node_and_its_child(api):
    pipeline, a, b = await chain(api)
    (Path(a["folder"]) / "data" / "out.txt").write_text("edited by hand")
    nodes = await checked(api, pipeline)
    assert reasons(nodes["a"]) == [("outputs", "data/ changed since the run")]
    assert ("input", "input 01 (a) has new data") in reasons(nodes["b"])
    finished = await run(api, pipeline)
    assert finished["status"] == "completed"
    assert (Path(b["folder"]) / "data" / "out.txt").read_text() == "1!"


async def test_accept_records_the_current_fingerprint(api):
    pipeline, a, _b = await chain(api)
    code(a).write_text(code(a).read_text() + "\nprint('new')\n")
    assert (await checked(api, pipeline))["a"]["status"] == "staledata"
    url = f"pipelines/{pipeline['id']}/status"
    status, _ = await api("POST", url, {"node_ids": [a["id"]], "status": "completed"})
    assert status == 204
    nodes = await checked(api, pipeline)
    assert nodes["a"]["status"] == "completed" and reasons(nodes["a"]) == []
    assert nodes["b"]["status"] == "completed"
    finished = await run(api, pipeline)
    assert {n["status"] for n in finished["nodes"]} == {"skipped"}


async def test_manual_stale_is_stored_and_always_reruns(api):
    pipeline, a, b = await chain(api)
    url = f"pipelines/{pipeline['id']}/status"
    status, _ = await api("POST", url, {"node_ids": [a["id"]], "status": "staledata"})
    assert status == 204
    nodes = await checked(api, pipeline)
    assert nodes["a"]["status"] == "staledata"
    assert reasons(nodes["a"])[0][0] == "manual"
    finished = await run(api, pipeline)
    by_node = {n["node_id"]: n for n in finished["nodes"]}
    assert by_node[a["id"]]["exit_code"] == 0, "ran again, not restored or skipped"
    assert by_node[b["id"]]["reason"] == "up to date", "same outputs: early cutoff"
    assert (await checked(api, pipeline))["a"]["stale_reasons"] == []


async def test_provenance_walks_back_to_the_roots(api):
    pipeline, a, b = await chain(api)
    finished = await run(api, pipeline)  # nothing to do: provenance stays the first run's
    _, first = await api("GET", f"nodes/{b['id']}/provenance")
    steps = {step["tag"]: step for step in first["steps"]}
    assert set(steps) == {"a", "b"}
    assert steps["b"]["inputs"]["01"]["node_id"] == a["id"]
    assert steps["b"]["inputs"]["01"]["run_id"] == steps["a"]["run_id"]
    assert steps["b"]["code"] and steps["b"]["fingerprint"]
    _, run_json = await api("GET", f"runs/{steps['b']['run_id']}")
    node_entry = next(n for n in run_json["nodes"] if n["node_id"] == b["id"])
    assert node_entry["fingerprint"] == steps["b"]["fingerprint"]
    assert node_entry["made_from"]["inputs"]["01"]["run_id"] == steps["a"]["run_id"]
    assert finished["id"] != steps["b"]["run_id"]
    status, _ = await api("GET", "nodes/n_nope/provenance")
    assert status == 404


async def test_nodes_from_before_fingerprints_adopt_the_first_one(api, database_url):
    pipeline, a, _b = await chain(api)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE nodes SET fingerprint = NULL, fingerprint_parts = NULL, "
            "outputs_recorded = NULL, made_by_run = NULL"
        )
    nodes = await checked(api, pipeline)
    assert {t: n["status"] for t, n in nodes.items()} == {"a": "completed", "b": "completed"}
    with psycopg.connect(database_url) as conn:
        recorded = conn.execute("SELECT count(*) FROM nodes WHERE fingerprint IS NULL").fetchone()
    assert recorded == (0,)
    code(a).write_text(code(a).read_text() + "\nprint('after the upgrade')\n")
    assert (await checked(api, pipeline))["a"]["status"] == "staledata"


async def test_a_shared_stale_node_can_neither_run_nor_be_accepted(api):
    pipeline, a, _b = await chain(api)
    other = await setup_pipeline(api, "other")
    status, _ = await api(
        "POST",
        f"pipelines/{pipeline['id']}/reference-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": other["id"]},
    )
    assert status == 204
    code(a).write_text(code(a).read_text() + "\nprint('x')\n")
    assert (await checked(api, pipeline))["a"]["status"] == "staledata"
    url = f"pipelines/{pipeline['id']}/status"
    status, body = await api("POST", url, {"node_ids": [a["id"]], "status": "completed"})
    assert status == 409 and "detach" in body["message"]
    finished = await run(api, pipeline)
    entry = next(n for n in finished["nodes"] if n["node_id"] == a["id"])
    assert entry["status"] == "skipped" and "detach" in entry["reason"]


async def test_an_edit_in_a_terminal_shows_without_any_request(api):
    """The canvas fetched the graph once; then a file changes on disk. The node turns stale
    by itself (watching), as a node fetch, which checks nothing, shows."""
    pipeline, a, _ = await chain(api)
    await api("GET", f"pipelines/{pipeline['id']}")
    await wait_for(lambda: watching_node(api, a), what="watching the node")
    code(a).write_text(code(a).read_text() + "\nprint('from a terminal')\n")

    async def stale():
        node = await node_json(api, a)
        return node["status"] == "staledata" and reasons(node)

    found = await wait_for(stale, timeout=3.0, what="the node turning stale")
    assert found == [("code", "code/main.py changed")]


async def test_with_nothing_to_watch_the_watcher_waits_for_another_pipeline(api):
    """An open pipeline with no folder to watch is walked once, not every second (an idle
    server with a large pipeline whose folders are elsewhere spent a core on that)."""
    watcher = api.server.web_app.settings["fusionpipe_watcher"]
    walks = []  # the open pipelines of each walk
    folders = watcher._folders

    async def counted(pipelines):
        walks.append(tuple(pipelines))
        return await folders(pipelines)

    watcher._folders = counted
    empty = await setup_pipeline(api)
    await api("GET", f"pipelines/{empty['id']}")

    async def walked(pipelines):
        return pipelines in walks

    await wait_for(lambda: walked((empty["id"],)), what="a walk of the open pipeline")
    await asyncio.sleep(2.5)
    assert walks.count((empty["id"],)) == 1, "nothing found: no walk again until a change"
    other = await setup_pipeline(api, tag="q")
    await api("GET", f"pipelines/{other['id']}")
    both = tuple(sorted([empty["id"], other["id"]]))
    await wait_for(lambda: walked(both), what="a walk once another pipeline opens")


async def test_a_node_added_to_an_open_pipeline_is_watched_at_once(api):
    """Its edits must show live once it has run, as those of the nodes there at the fetch."""
    pipeline, a, _ = await chain(api)
    await api("GET", f"pipelines/{pipeline['id']}")
    await wait_for(lambda: watching_node(api, a), what="watching the pipeline")
    c = await add_node(api, pipeline, "c")
    await wait_for(lambda: watching_node(api, c), timeout=3.0, what="watching the new node")


async def test_a_folder_made_in_a_nodes_code_is_watched_too(api):
    pipeline, a, _ = await chain(api)
    await api("GET", f"pipelines/{pipeline['id']}")
    await wait_for(lambda: watching_node(api, a), what="watching the node")
    watcher = api.server.web_app.settings["fusionpipe_watcher"]
    library = code(a).parent / "lib"
    library.mkdir()

    async def watching_library():
        return library in watcher.watched

    await wait_for(watching_library, timeout=3.0, what="watching the new folder")
    (library / "util.py").write_text("x = 1\n")

    async def stale():
        node = await node_json(api, a)
        return node["status"] == "staledata" and reasons(node)

    found = await wait_for(stale, timeout=3.0, what="the node turning stale")
    assert ("code", "code/lib/util.py added") in found


async def test_periodic_scans_keep_to_their_share_of_the_time(api):
    """However large the open pipelines, the fallback scan takes at most PERIODIC_SHARE of the
    time: a scan that takes 50 ms comes once a second, not every 0.1 s asked for here."""
    staleness = api.service.staleness
    pipeline = await setup_pipeline(api)
    scans = []

    async def slow_scan(pipeline_id):
        scans.append(time.monotonic())
        await asyncio.sleep(0.05)
        return {}

    staleness.check_pipeline = slow_scan
    staleness.scan_interval = 0.1
    staleness.fetched(pipeline["id"])
    await asyncio.sleep(3.0)
    # One asked for by the fetch, then one about every second (0.05 s / 0.05); without the
    # budget, one every 0.2 s: about fifteen.
    assert 2 <= len(scans) <= 5, scans


async def watching_node(api, node):
    watcher = api.server.web_app.settings["fusionpipe_watcher"]
    return Path(node["folder"]) / "code" in watcher.watched


async def test_a_save_in_the_lab_editor_stales_the_node(api):
    _pipeline, a, _ = await chain(api)
    lab_path = (await node_json(api, a))["lab_path"]
    assert lab_path, "the data folder is reachable from the lab"
    source = code(a).read_text() + "\nprint('saved in the editor')\n"
    status, _ = await api.contents(
        "PUT", f"{lab_path}/code/main.py", {"type": "file", "format": "text", "content": source}
    )
    assert status == 200

    async def stale():
        node = await node_json(api, a)
        return node["status"] == "staledata" and reasons(node)

    assert await wait_for(stale, timeout=3.0) == [("code", "code/main.py changed")]


async def test_a_duplicate_takes_its_originals_outputs_instead_of_running(api):
    pipeline, a, _ = await chain(api)
    other = await setup_pipeline(api, "copy")
    status, _ = await api(
        "POST",
        f"pipelines/{pipeline['id']}/duplicate-nodes",
        {"node_ids": [a["id"]], "target_pipeline_id": other["id"], "with_data": False},
    )
    assert status in (200, 201, 204)
    finished = await run(api, other)
    (entry,) = finished["nodes"]
    assert entry["status"] == "completed" and entry["reason"].startswith("restored from run")
    _, graph = await api("GET", f"pipelines/{other['id']}")
    (copy,) = graph["nodes"]
    assert (Path(copy["folder"]) / "data" / "out.txt").read_text() == "1"
    assert (Path(a["folder"]) / "data" / "out.txt").read_text() == "1", "the original keeps its own"


async def test_the_cache_keeps_locked_pipelines_outputs_and_evicts_the_rest(api, data_path):
    pipeline, a, b = await chain(api)
    await api("PUT", f"nodes/{a['id']}/parameters", {"content": "value: 2\n"})
    await run(api, pipeline)  # a's and b's first outputs go to the cache
    cached = sorted(
        (e / "out.txt").read_text() for e in (data_path / ".fusionpipe-cache").iterdir()
    )
    assert cached == ["1", "1!"]
    status, _ = await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": True})
    assert status == 200
    assert await api.service.cache.collect(0) == [], "a locked pipeline's outputs stay"
    await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": False})
    evicted = await api.service.cache.collect(0)
    assert {entry.node_id for entry in evicted} == {a["id"], b["id"]}
    assert list((data_path / ".fusionpipe-cache").iterdir()) == []
