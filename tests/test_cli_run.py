"""``fusionpipe run``: a headless run from the command line, with progress and exit status."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from test_nodes_api import add_node, connect, setup_pipeline


async def fusionpipe_run(database_url, data_path, *args):
    return await fusionpipe_command(database_url, data_path, "run", *args)


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


async def test_plain_lines_name_the_attempts_of_a_retried_node(api, database_url, data_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "flaky")
    status, _ = await api("PUT", f"nodes/{node['id']}/parameters", {"content": "retries: 1\n"})
    assert status == 200
    (Path(node["folder"]) / "code" / "main.py").write_text(
        "from pathlib import Path\n"
        "marker = Path('../data/tried')\n"
        "first = not marker.exists()\n"
        "marker.write_text('x')\n"
        "raise SystemExit(1 if first else 0)\n"
    )
    code, output = await fusionpipe_run(database_url, data_path, pipeline["id"])
    assert code == 0, output
    lines = output.splitlines()
    assert lines[1].split()[:2] == ["ok", "flaky"] and lines[1].endswith("[attempt 2 of 2]")
    assert "\x1b" not in output, "no terminal codes when the output is not a terminal"


async def test_a_terminal_gets_a_progress_bar(api, database_url, data_path):
    pipeline = await setup_pipeline(api, "bar")
    a, b = [await add_node(api, pipeline, t) for t in ("first", "second")]
    await connect(api, pipeline, a, b)
    (Path(a["folder"]) / "code" / "main.py").write_text("import time\ntime.sleep(1)\n")
    primary, secondary = pty.openpty()
    # A wide terminal, so that the bar's line holds every column.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fusionpipe_server.cli",
        "run",
        "bar",
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "FUSIONPIPE_DATA_PATH": str(data_path),
            "TERM": "xterm-256color",
        },
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    received = bytearray()
    loop = asyncio.get_running_loop()
    while True:
        try:
            chunk = await loop.run_in_executor(None, os.read, primary, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(primary)
    assert await process.wait() == 0, received.decode(errors="replace")
    output = received.decode(errors="replace")
    assert "\x1b[" in output, "a terminal gets the bar's control sequences"
    assert "2/2" in output and "━" in output, output
    assert "ok   first" in output and "ok   second" in output
    assert output.rstrip().endswith("fusionpipe: run completed")


async def fusionpipe_command(database_url, data_path, *args):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fusionpipe_server.cli",
        *args,
        env={**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode, output.decode()


async def test_status_counts_items_and_run_retries_only_the_failed_ones(
    api, database_url, data_path
):
    pipeline = await setup_pipeline(api, "shots")
    node = await add_node(api, pipeline, "analyse")
    values = "map:\n  shot: [1, 2, 3, 4]\n"
    status, saved = await api("PUT", f"nodes/{node['id']}/parameters", {"content": values})
    assert status == 200, saved
    code_dir = Path(node["folder"]) / "code"
    (code_dir / "main.py").write_text(
        "import sys, fusionpipe\n"
        "if fusionpipe.item()['shot'] in (2, 3) and not (fusionpipe.code_dir() / 'ok').exists():\n"
        "    sys.exit(5)\n"
    )
    code, output = await fusionpipe_run(database_url, data_path, "shots")
    assert code == 1, output
    assert "[2 of 4 items completed]" in output and "2 of 4 items failed" in output, output
    code, output = await fusionpipe_command(database_url, data_path, "status", "shots")
    assert code == 1
    assert "analyse  failed (4 items: 2 completed, 2 failed)" in output, output
    (code_dir / "ok").write_text("")
    code, output = await fusionpipe_run(database_url, data_path, "shots", "--failed-items")
    assert code == 0, output
    assert "[2 of 2 items completed]" in output, output
    _, page = await api("GET", f"nodes/{node['id']}/items")
    runs = {item["id"]: item["run_id"] for item in page["items"]}
    assert runs["shot=1"] == runs["shot=4"] != runs["shot=2"] == runs["shot=3"]
    code, output = await fusionpipe_run(database_url, data_path, "shots", "--failed-items")
    assert (code, output.strip()) == (0, "fusionpipe: 'shots' has no failed items")
