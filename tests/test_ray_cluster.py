"""Nodes on a real Ray cluster: a head and a second node started apart with ``ray start``, on
loopback, with token authentication, and workers that have neither fusionpipe's packages nor
the server's Python path. The server is a real ``jupyter server`` process pointed at it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from jupyter_process import JupyterProcess
from ray_cluster import CLIENT_ON_LOOPBACK, LOOPBACK, RayCluster
from test_ray import kill_a_sleeping_node, ray_node, wait_run

from fusionpipe_server.errors import Unavailable
from fusionpipe_server.runners import ray_task
from fusionpipe_server.runners.ray import cluster_environment, server_paths

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster for the module: starting it takes most of the time."""
    cluster = RayCluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def server(tmp_path, cluster):
    home = tmp_path / "server-home"
    home.mkdir()
    process = JupyterProcess(
        tmp_path,
        f"--FusionpipeApp.embedded_db_path={tmp_path / 'pgdata'}",
        f"--FusionpipeApp.data_path={tmp_path / 'data'}",
        f"--FusionpipeApp.ray_address={cluster.address}",
        f"--FusionpipeApp.ray_auth_token_path={cluster.token_path}",
        # A HOME of its own: no ~/.ray/auth_token to fall back on, only the setting.
        env={"HOME": str(home), **CLIENT_ON_LOOPBACK},
    )
    try:
        process.wait_ready()
        yield process
    finally:
        assert process.stop() == 0


def test_the_cluster_has_two_nodes_on_loopback_only(cluster):
    nodes = cluster.nodes()
    assert [(n["ip"], n["alive"]) for n in nodes] == [(LOOPBACK, True)] * 2
    assert cluster.listening() == {LOOPBACK}


def test_a_chain_runs_on_the_cluster_and_a_kill_ends_the_whole_tree(cluster, server, tmp_path):
    project = server.request("POST", "projects", {"tag": "cluster"})
    pipeline = server.request("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    a = ray_node(
        server,
        pipeline,
        "a",
        """
        import fusionpipe
        (fusionpipe.data_dir() / "x.txt").write_text("1")
        """,
    )
    b = ray_node(
        server,
        pipeline,
        "b",
        """
        import fusionpipe
        value = int((fusionpipe.parent("01").data_dir / "x.txt").read_text())
        (fusionpipe.data_dir() / "x.txt").write_text(str(value * 20))
        """,
    )
    c = ray_node(
        server,
        pipeline,
        "c",
        """
        import json, sys
        import fusionpipe
        value = int((fusionpipe.parent("01").data_dir / "x.txt").read_text())
        where = {"python": sys.executable, "fusionpipe": fusionpipe.__file__}
        (fusionpipe.data_dir() / "x.txt").write_text(str(value + 22))
        (fusionpipe.data_dir() / "where.json").write_text(json.dumps(where))
        """,
    )
    for parent, child in ((a, b), (b, c)):
        edge = {"source": parent["id"], "target": child["id"]}
        server.request("POST", f"pipelines/{pipeline['id']}/edges", edge)
    started = server.request("POST", f"pipelines/{pipeline['id']}/runs", {})
    finished = wait_run(server, started["id"], timeout=60)
    assert finished["status"] == "completed", [
        (n["status"], n["reason"]) for n in finished["nodes"]
    ]
    assert {n["backend"] for n in finished["nodes"]} == {"ray"}
    assert (Path(c["folder"]) / "data" / "x.txt").read_text() == "42"
    where = json.loads((Path(c["folder"]) / "data" / "where.json").read_text())
    # The worker's interpreter, not the server's; the node API as Ray shipped it to the
    # worker (the workers' own fusionpipe is hidden and fails to import).
    assert where["python"] == cluster.python != sys.executable
    shipped = [str(cluster.temp_dir(name)) for name in ("head", "worker")]
    assert where["fusionpipe"].startswith(tuple(shipped)), where

    kill_a_sleeping_node(server, pipeline, tmp_path, timeout=30)


def test_the_token_setting_turns_token_authentication_on(tmp_path):
    token = tmp_path / "token"
    token.write_text("t")
    assert cluster_environment("", {}) == {}
    assert cluster_environment(str(token), {}) == {
        "RAY_AUTH_TOKEN_PATH": str(token),
        "RAY_AUTH_MODE": "token",
    }
    # An administrator's choice of mode stands.
    assert cluster_environment(str(token), {"RAY_AUTH_MODE": "disabled"}) == {
        "RAY_AUTH_TOKEN_PATH": str(token)
    }
    with pytest.raises(Unavailable, match="ray_auth_token_path"):
        cluster_environment(str(tmp_path / "missing"), {})


def test_a_command_names_the_workers_paths_instead_of_the_servers(tmp_path, monkeypatch):
    """The task body's rewrite, on a 'worker' (this process) whose fusionpipe lies elsewhere."""
    import fusionpipe

    server_api = str(Path(fusionpipe.__file__).parent)
    assert server_paths() == {
        sys.executable: ray_task.WORKER_PYTHON,
        server_api: "fusionpipe",
        str(Path(sys.modules["fp_user_utils"].__file__).parent): "fp_user_utils",
    }
    shipped = tmp_path / "shipped"
    (shipped / "fusionpipe").mkdir(parents=True)
    (shipped / "fusionpipe" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(shipped))
    monkeypatch.setenv("PYTHONPATH", str(shipped))
    monkeypatch.delitem(sys.modules, "fusionpipe")
    argv, env = ray_task.relocate(
        ["/srv/venv/bin/python", f"addpath('{server_api}/matlab');", f"{server_api}_server/x"],
        {"HELPERS": server_api, "PYTHONPATH": "/mine"},
        {"/srv/venv/bin/python": ray_task.WORKER_PYTHON, server_api: "fusionpipe"},
    )
    assert argv == [
        sys.executable,
        f"addpath('{shipped / 'fusionpipe'}/matlab');",
        f"{server_api}_server/x",  # another folder that merely starts alike
    ]
    assert env == {"HELPERS": str(shipped / "fusionpipe"), "PYTHONPATH": f"{shipped}:/mine"}
