"""The runner of local nodes is a setting: a site's own runner class, given on the command line
of a real Jupyter server, runs the nodes."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from jupyter_process import JupyterProcess
from test_ray import wait_run

TESTS = Path(__file__).parent


def test_a_runner_class_from_configuration_runs_the_nodes(tmp_path):
    server = JupyterProcess(
        tmp_path,
        f"--FusionpipeApp.embedded_db_path={tmp_path / 'pgdata'}",
        f"--FusionpipeApp.data_path={tmp_path / 'data'}",
        "--FusionpipeApp.runner_class=fake_runner.FakeRunner",
        "--FakeRunner.greeting=hello from the site runner",
        env={
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
        },
    )
    try:
        server.wait_ready()
        project = server.request("POST", "projects", {"tag": "plug-in"})
        pipeline = server.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
        node = server.request("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "n"})
        (Path(node["folder"]) / "code" / "main.py").write_text(
            textwrap.dedent(
                """
                import os
                from pathlib import Path
                Path("../data/runner.txt").write_text(os.environ["FAKE_RUNNER"])
                """
            )
        )
        started = server.request("POST", f"pipelines/{pipeline['id']}/runs", {})
        finished = wait_run(server, started["id"], timeout=60)
        entry = finished["nodes"][0]
        assert (finished["status"], entry["backend"]) == ("completed", "fake"), entry
        assert (Path(node["folder"]) / "data" / "runner.txt").read_text() == (
            "hello from the site runner"
        )
        log = server.request("GET", f"nodes/{node['id']}/log")["content"]
        assert f"hello from the site runner {node['id']}" in log
    finally:
        assert server.stop() == 0


def test_a_class_that_is_no_runner_is_refused_at_start(tmp_path):
    server = JupyterProcess(
        tmp_path,
        f"--FusionpipeApp.embedded_db_path={tmp_path / 'pgdata'}",
        "--FusionpipeApp.runner_class=pathlib.PurePath",
    )
    code = server.wait_exit(timeout=60)
    assert code != 0
    assert "runner_class pathlib.PurePath lacks local, start, take_back" in server.output
