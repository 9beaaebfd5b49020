"""``fusionpipe run``: a headless run from the command line, with progress and exit status."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from test_nodes_api import add_node, connect, setup_pipeline


async def fusionpipe_run(database_url, data_path, *args):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fusionpipe_server.cli",
        "run",
        *args,
        env={**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode, output.decode()


async def test_run_until_a_node_by_tags_and_report_progress(api, database_url, data_path):
    pipeline = await setup_pipeline(api, "nightly")
    a, b, c = [await add_node(api, pipeline, t) for t in ("load", "fit", "plot")]
    await connect(api, pipeline, a, b)
    await connect(api, pipeline, b, c)
    code, output = await fusionpipe_run(database_url, data_path, "nightly", "--until", "fit")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("fusionpipe: run r_") and "'nightly'" in lines[0]
    assert [line.split()[:2] for line in lines[1:3]] == [["ok", "load"], ["ok", "fit"]]
    assert lines[-1] == "fusionpipe: run completed"
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert {n["tag"]: n["status"] for n in graph["nodes"]} == {
        "load": "completed",
        "fit": "completed",
        "plot": "ready",
    }


async def test_a_failing_node_gives_a_non_zero_exit(api, database_url, data_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "broken")
    (Path(node["folder"]) / "code" / "main.py").write_text("raise SystemExit(4)\n")
    code, output = await fusionpipe_run(database_url, data_path, pipeline["id"])
    assert code == 1
    assert "FAIL broken" in output and "exit code 4" in output


async def test_an_unknown_pipeline_is_a_clear_error(api, database_url, data_path):
    code, output = await fusionpipe_run(database_url, data_path, "no-such-pipeline")
    assert code == 2 and "no pipeline with id or tag 'no-such-pipeline'" in output


async def test_run_takes_the_servers_settings_from_a_jupyter_config_file(
    api, database_url, data_path, tmp_path
):
    """`fusionpipe run` reads the settings the server reads: here the database and the data
    folder from a jupyter_server_config file, which wins over the environment as it does for
    the server."""
    pipeline = await setup_pipeline(api, "configured")
    node = await add_node(api, pipeline, "only")
    (Path(node["folder"]) / "code" / "main.py").write_text("print('configured')\n")
    config_dir = tmp_path / "jupyter-config"
    config_dir.mkdir()
    settings = {"FusionpipeApp": {"database_url": database_url, "data_path": str(data_path)}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(settings))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "FUSIONPIPE_DATA_PATH"}
    env.update(JUPYTER_CONFIG_DIR=str(config_dir), DATABASE_URL="host=/nowhere dbname=none")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fusionpipe_server.cli",
        "run",
        "configured",
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    assert output.splitlines()[-1] == "fusionpipe: run completed"
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert "configured" in log["content"]
    assert not (elsewhere / "fusionpipe-data").exists()
