"""Nodes with ``run_mode: ray`` on a real local Ray, started by the server on first use."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_nodes_api import add_node, connect, setup_pipeline
from test_runs_api import running, statuses, wait_run, write_code

pytestmark = pytest.mark.ray


async def ray_node(api, pipeline, tag):
    node = await add_node(api, pipeline, tag)
    status, _ = await api("PUT", f"nodes/{node['id']}/parameters", {"content": "run_mode: ray\n"})
    assert status == 200
    return node


async def test_a_chain_runs_on_ray_and_a_kill_ends_the_whole_tree(api, tmp_path):
    pipeline = await setup_pipeline(api)
    a, b = await ray_node(api, pipeline, "a"), await ray_node(api, pipeline, "b")
    await connect(api, pipeline, a, b)
    write_code(
        a,
        "import fusionpipe\n(fusionpipe.data_dir() / 'x.txt').write_text('20')\nprint('on ray')\n",
    )
    write_code(
        b,
        """
        import fusionpipe
        value = int((fusionpipe.parent("01").data_dir / "x.txt").read_text())
        (fusionpipe.data_dir() / "x.txt").write_text(str(value + 22))
    """,
    )
    status, started = await api("POST", f"pipelines/{pipeline['id']}/runs", {})
    finished = await wait_run(api, started["id"], timeout=180)
    assert finished["status"] == "completed", finished
    assert {n["backend"] for n in finished["nodes"]} == {"ray"}
    assert (Path(b["folder"]) / "data" / "x.txt").read_text() == "42"
    _, log = await api("GET", f"nodes/{a['id']}/log")
    assert "on ray" in log["content"]

    sleeper = await ray_node(api, pipeline, "sleeper")
    pidfile = tmp_path / "grandchild.pid"
    write_code(
        sleeper,
        f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        time.sleep(60)
    """,
    )
    _, started = await api(
        "POST", f"pipelines/{pipeline['id']}/runs", {"node_ids": [sleeper["id"]]}
    )
    for _ in range(600):
        if pidfile.exists() and pidfile.read_text():
            break
        await asyncio.sleep(0.05)
    grandchild = int(pidfile.read_text())
    status, _ = await api("POST", f"pipelines/{pipeline['id']}/nodes/{sleeper['id']}/kill")
    assert status == 202
    finished = await wait_run(api, started["id"], timeout=60)
    assert finished["nodes"][0]["status"] == "failed"
    for _ in range(100):
        if not running(grandchild):
            break
        await asyncio.sleep(0.05)
    assert not running(grandchild), "the node's child survived the kill on Ray"
    assert (await statuses(api, pipeline))["sleeper"] == "failed"
