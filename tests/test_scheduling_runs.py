"""Per-node scheduling with real node processes: time limits, retries, CPU slots and GPUs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from test_nodes_api import add_node, setup_pipeline
from test_runs_api import running, wait_run, write_code


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["FusionpipeApp"]["max_parallel_nodes"] = 2
    # As if the machine had two GPUs: local runs hand them out without touching them.
    jp_server_config["FusionpipeApp"]["local_gpus"] = 2
    return jp_server_config


async def set_parameters(api, node, content):
    status, body = await api("PUT", f"nodes/{node['id']}/parameters", {"content": content})
    assert status == 200, body


async def start(api, pipeline, **body):
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", body)
    assert status == 202, started
    return started


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("timeout: soon\n", "timeout"),
        ("retries: -1\n", "retries"),
        ("retry_delay: whenever\n", "retry_delay"),
        ("resources:\n  gpus: half\n", "resources.gpus"),
        ("resources:\n  memory: lots\n", "resources.memory"),
    ],
)
async def test_a_bad_scheduling_value_is_a_400_naming_the_key(api, content, key):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    before = (Path(node["folder"]) / "code" / "node_parameters.yaml").read_text()
    status, body = await api("PUT", f"nodes/{node['id']}/parameters", {"content": content})
    assert status == 400
    assert body["message"].startswith(f"node_parameters.yaml: {key} "), body
    assert (Path(node["folder"]) / "code" / "node_parameters.yaml").read_text() == before


async def test_a_timeout_kills_the_whole_tree_and_counts_as_a_failure_for_retries(api, tmp_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "slow")
    pids = tmp_path / "pids"
    await set_parameters(api, node, "timeout: 2s\nretries: 1\n")
    # A child shell and its grandchild sleep, in the node's process group.
    write_code(
        node,
        f"""
        import os, subprocess, time
        child = subprocess.Popen(["sh", "-c", "sleep 120 & echo $! >> {pids}; wait"])
        with open({str(pids)!r}, "a") as f:
            f.write(f"{{child.pid}}\\n")
        time.sleep(120)
        """,
    )
    began = time.monotonic()
    finished = await wait_run(api, (await start(api, pipeline))["id"], timeout=60)
    took = time.monotonic() - began
    entry = finished["nodes"][0]
    assert (entry["status"], entry["reason"]) == ("failed", "timed out after 2s")
    assert (entry["attempt"], entry["attempts"]) == (2, 2)
    assert [t["reason"] for t in entry["tries"]] == ["timed out after 2s"] * 2
    assert took < 20, f"two 2 s attempts took {took:.1f}s"
    found = [int(line) for line in pids.read_text().split()]
    assert len(found) == 4, "each attempt started a child and a grandchild"
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in found) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not [pid for pid in found if running(pid)], "a process of the tree survived"
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert log["content"].count("fusionpipe: timed out after 2s\n") == 2
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["nodes"][0]["status"] == "failed"


async def test_retries_record_every_attempt_and_keep_data(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "flaky")
    await set_parameters(api, node, "retries: 2\nretry_delay: 1s\n")
    # A checkpoint in data/: each attempt sees what the failed one left there.
    write_code(
        node,
        """
        from pathlib import Path
        count = Path("../data/count")
        n = int(count.read_text()) + 1 if count.exists() else 1
        count.write_text(str(n))
        print(f"attempt number {n}")
        raise SystemExit(0 if n == 3 else 5)
        """,
    )
    finished = await wait_run(api, (await start(api, pipeline))["id"])
    entry = finished["nodes"][0]
    assert finished["status"] == "completed" and entry["status"] == "completed"
    assert (entry["attempt"], entry["attempts"], entry["exit_code"]) == (3, 3, 0)
    tries = entry["tries"]
    assert [(t["attempt"], t["exit_code"], t["reason"]) for t in tries] == [
        (1, 5, "exit code 5"),
        (2, 5, "exit code 5"),
        (3, 0, "completed"),
    ]
    assert all(t["backend"] == "local" and t["duration"] >= 0 for t in tries)
    assert tries[1]["started_at"] >= tries[0]["finished_at"]
    assert entry["duration"] >= 2, "the node's duration counts both pauses of 1 s"
    assert (Path(node["folder"]) / "data" / "count").read_text() == "3"
    _, log = await api("GET", f"nodes/{node['id']}/log")
    content = log["content"]
    for n in (1, 2, 3):
        assert f"attempt number {n}" in content
    assert "fusionpipe: exit code 5\nfusionpipe: trying again in 1s" in content
    assert "attempt 2 of 3" in content and "attempt 3 of 3" in content
    _, page = await api("GET", f"pipelines/{pipeline['id']}/runs")
    listed = page["runs"][0]["nodes"][0]
    assert (listed["attempt"], listed["attempts"]) == (3, 3)


async def test_a_kill_during_the_pause_before_a_retry_ends_the_node(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "failing")
    await set_parameters(api, node, "retries: 3\nretry_delay: 10m\n")
    write_code(node, "raise SystemExit(1)\n")
    started = await start(api, pipeline)
    content = ""
    deadline = time.monotonic() + 30
    while "trying again in 10m" not in content and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        _, log = await api("GET", f"nodes/{node['id']}/log")
        content = log.get("content", "")  # none yet: 404 until the node has a log
    status, _ = await api("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill")
    assert status == 202
    finished = await wait_run(api, started["id"], timeout=10)
    entry = finished["nodes"][0]
    assert entry["status"] == "failed" and entry["attempt"] == 1, entry
    assert entry["reason"].startswith("killed by ")
    assert entry["reason"].endswith(" before attempt 2 (attempt 1: exit code 1)")


async def test_an_impossible_local_request_fails_at_once(api):
    pipeline = await setup_pipeline(api)
    gpus = await add_node(api, pipeline, "gpus")
    cpus = await add_node(api, pipeline, "cpus")
    ray_only = await add_node(api, pipeline, "ray-only")
    memory = await add_node(api, pipeline, "memory")
    by_hand = await add_node(api, pipeline, "by-hand")
    await set_parameters(api, gpus, "resources:\n  gpus: 3\n")
    await set_parameters(api, cpus, "resources:\n  cpus: 64\n")
    await set_parameters(api, ray_only, "resources:\n  fast_disk: 1\n")
    await set_parameters(api, memory, "resources:\n  memory: 100TiB\n")
    # Edited in a terminal, past the API's check.
    (Path(by_hand["folder"]) / "code" / "node_parameters.yaml").write_text("retries: often\n")
    began = time.monotonic()
    finished = await wait_run(api, (await start(api, pipeline))["id"], timeout=20)
    assert time.monotonic() - began < 5
    reasons = {n["node_id"]: (n["status"], n["reason"], n["tries"]) for n in finished["nodes"]}
    assert reasons[gpus["id"]] == (
        "failed",
        "cannot run: it asks for 3 GPUs and local runs have 2 GPUs (FusionpipeApp.local_gpus)",
        [],
    )
    assert reasons[cpus["id"]][1] == (
        "cannot run: it asks for 64 CPUs and local runs have 2 CPU slots "
        "(FusionpipeApp.max_parallel_nodes; fusionpipe run --parallel)"
    )
    assert "Ray resource 'fast_disk'" in reasons[ray_only["id"]][1]
    assert reasons[memory["id"]][1].startswith(
        "cannot run: it asks for 102,400.0 GiB of memory and this machine has"
    )
    assert reasons[by_hand["id"]][:2] == (
        "failed",
        "cannot run: node_parameters.yaml: retries must be a whole number from 0 to 1000, "
        "not 'often'",
    )
    _, log = await api("GET", f"nodes/{gpus['id']}/log")
    assert "cannot run: it asks for 3 GPUs" in log["content"]


async def test_a_local_run_counts_cpus_and_hands_each_gpu_to_one_node_at_a_time(api):
    pipeline = await setup_pipeline(api)
    # Each node's code differs (its tag): nodes made of the same content would share outputs
    # through the output cache instead of running.
    report = """
        # NODE
        import os, time
        from pathlib import Path
        start = time.time()
        time.sleep(0.6)
        Path("../data/run.txt").write_text(
            f"{start} {time.time()} {os.environ['CUDA_VISIBLE_DEVICES']}"
        )
    """
    gpu_nodes = [await add_node(api, pipeline, f"gpu{i}") for i in range(4)]
    for node in gpu_nodes:
        await set_parameters(api, node, "resources:\n  gpus: 1\n")
        write_code(node, report.replace("NODE", node["tag"]))
    plain = await add_node(api, pipeline, "plain")
    write_code(plain, report.replace("NODE", plain["tag"]))
    finished = await wait_run(api, (await start(api, pipeline))["id"])
    assert finished["status"] == "completed"

    def spans(nodes):
        for node in nodes:
            begin, end, gpus = (Path(node["folder"]) / "data" / "run.txt").read_text().split(" ")
            yield float(begin), float(end), gpus

    seen = list(spans(gpu_nodes))
    assert {g for _, _, g in seen} <= {"0", "1"}, "each holds one of the two GPUs"
    together = [
        (g1, g2)
        for i, (b1, e1, g1) in enumerate(seen)
        for b2, e2, g2 in seen[i + 1 :]
        if b1 < e2 and b2 < e1
    ]
    # Five nodes on two CPU slots: at least two GPU nodes ran at the same time.
    assert together, "no two GPU nodes ran at once: the test proves nothing"
    assert all(g1 != g2 for g1, g2 in together), "two nodes held the same GPU at once"
    assert next(spans([plain]))[2] == "", "a node that asked for no GPU sees none"

    # Two CPU slots: two nodes of two CPUs each run one after the other.
    wide = [await add_node(api, pipeline, f"wide{i}") for i in range(2)]
    for node in wide:
        await set_parameters(api, node, "resources:\n  cpus: 2\n")
        write_code(node, report.replace("NODE", node["tag"]))
    started = await start(api, pipeline, node_ids=[n["id"] for n in wide])
    assert (await wait_run(api, started["id"]))["status"] == "completed"
    (_, first_end, _), (second_begin, _, _) = sorted(spans(wide))
    assert second_begin >= first_end, "2-CPU nodes overlapped on 2 CPU slots"


async def test_scheduling_keys_leave_a_node_up_to_date(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    await wait_run(api, (await start(api, pipeline))["id"])
    await set_parameters(
        api, node, "run_mode: local\ntimeout: 1h\nretries: 3\nresources:\n  cpus: 1\n"
    )
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["nodes"][0]["status"] == "completed", graph["nodes"][0]["stale_reasons"]
    again = await wait_run(api, (await start(api, pipeline))["id"])
    assert again["nodes"][0]["status"] == "skipped"
