"""What node code can reach through the server: its environment holds no server secret, and a
log request can only read the node's own run logs."""

from __future__ import annotations

import json
from pathlib import Path

from test_nodes_api import add_node, setup_pipeline
from test_runs_api import run, write_code

from fusionpipe_server.folders import logs
from fusionpipe_server.runners.node_environment import node_environment


async def test_node_code_gets_no_server_token_or_secret(api, monkeypatch):
    secrets = {
        "JUPYTERHUB_API_TOKEN": "hub-token",
        "JPY_API_TOKEN": "jpy-token",
        "JUPYTER_TOKEN": "jupyter-token",
        "DATABASE_URL": "postgresql://user:password@db/fusionpipe",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "MY_SERVICE_KEY": "key",
        "PYTHON_PASSWORD": "python-password",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LC_TIME", "C.UTF-8")
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "dump")
    write_code(
        node,
        """
        import json, os
        import fusionpipe
        (fusionpipe.data_dir() / "env.json").write_text(json.dumps(dict(os.environ)))
        """,
    )
    finished = await run(api, pipeline)
    assert finished["status"] == "completed", finished
    seen = json.loads((Path(node["folder"]) / "data" / "env.json").read_text())
    assert not set(secrets) & set(seen), sorted(set(secrets) & set(seen))
    assert not [value for value in seen.values() if value in secrets.values()]
    assert seen["FUSIONPIPE_NODE_ID"] == node["id"]
    assert seen["LC_TIME"] == "C.UTF-8"
    assert {"PATH", "HOME"} <= set(seen)


def test_the_environment_rule_keeps_what_programs_need():
    server = {
        "PATH": "/bin",
        "HOME": "/root",
        "http_proxy": "http://proxy:3128",
        "CUDA_VISIBLE_DEVICES": "0",
        "UV_INDEX_URL": "https://pypi.example/simple",
        "UV_INDEX_TOKEN": "t",
        "RAY_ADDRESS": "ray://head:10001",
        "RAY_AUTH_TOKEN": "r",
        "GITHUB_TOKEN": "g",
        "PGPASSWORD": "p",
        "SOMETHING_ELSE": "x",
    }
    assert node_environment(server) == {
        "PATH": "/bin",
        "HOME": "/root",
        "http_proxy": "http://proxy:3128",
        "CUDA_VISIBLE_DEVICES": "0",
        "UV_INDEX_URL": "https://pypi.example/simple",
        "RAY_ADDRESS": "ray://head:10001",
    }


async def test_a_log_request_cannot_leave_the_node_logs_folder(api, data_path, tmp_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    secret = tmp_path / "secret.log"
    secret.write_text("server secret\n")
    inside = Path(node["folder"]) / "logs" / "r_0000000000000001.log"
    inside.write_text("one\ntwo\nthree\n")
    relative = "../" * 12 + str(secret.with_suffix(""))[1:]
    for run_id in (relative, str(secret.with_suffix("")), "..", "r_1/../../x", "r_1%00"):
        status, body = await api("GET", f"nodes/{node['id']}/log?run_id={run_id}")
        assert status in (400, 404) and "secret" not in json.dumps(body), (run_id, body)
    status, body = await api("GET", f"nodes/{node['id']}/log?run_id=r_0000000000000001&tail=2")
    assert (status, body["content"]) == (200, "two\nthree\n")


def test_a_log_tail_is_read_from_the_end_of_a_large_file(tmp_path, monkeypatch):
    path = tmp_path / "big.log"
    with path.open("wb") as handle:
        for i in range(200_000):
            handle.write(b"line %d of a long log\n" % i)
    read_sizes = []
    opened = Path.open

    def counting_open(self, *args, **kwargs):
        handle = opened(self, *args, **kwargs)
        real_read = handle.read

        def read(size=-1):
            data = real_read(size)
            read_sizes.append(len(data))
            return data

        handle.read = read
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    assert logs.read_tail(path, 3) == "".join(
        f"line {i} of a long log\n" for i in (199_997, 199_998, 199_999)
    )
    assert sum(read_sizes) <= 64 * 1024 < path.stat().st_size // 10
    whole = logs.read_tail(path, None)
    assert len(whole.encode()) <= logs.MAX_BYTES and whole.endswith("line 199999 of a long log\n")
