"""jupyter_server's Authorizer decides: a read-only user can look at everything but change
nothing and start no run."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from test_nodes_api import add_node, setup_pipeline

from fusionpipe_server.handlers.base import AUTH_RESOURCE


class ReadOnlyAuthorizer(Authorizer):
    """Like a JupyterHub read-only role: fusionpipe "read" only; the rest of Jupyter as usual."""

    read_only = False

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if resource == AUTH_RESOURCE and ReadOnlyAuthorizer.read_only:
            return action == "read"
        return True


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ServerApp"]["authorizer_class"] = ReadOnlyAuthorizer
    return jp_server_config


@pytest.fixture
def read_only():
    ReadOnlyAuthorizer.read_only = True
    yield
    ReadOnlyAuthorizer.read_only = False


async def test_a_read_only_user_reads_but_cannot_write_or_run(api, request):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    request.getfixturevalue("read_only")
    for path in ("projects", f"pipelines/{pipeline['id']}", f"nodes/{node['id']}", "openapi.json"):
        assert (await api("GET", path))[0] == 200, path
    refused = [
        ("POST", "projects", {"tag": "x"}),
        ("PATCH", f"pipelines/{pipeline['id']}", {"tag": "y"}),
        ("PUT", f"nodes/{node['id']}/parameters", {"content": "a: 1\n"}),
        ("DELETE", f"pipelines/{pipeline['id']}/nodes/{node['id']}", None),
        ("POST", f"pipelines/{pipeline['id']}/runs", {}),
        ("POST", f"pipelines/{pipeline['id']}/nodes/{node['id']}/kill", None),
        ("POST", "runs/r_0000000000000000/cancel", None),
    ]
    for method, path, body in refused:
        status, answer = await api(method, path, body)
        assert status == 403 and "fusionpipe" in answer["message"], (method, path, answer)
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["tag"] == pipeline["tag"] and len(graph["nodes"]) == 1
    _, runs = await api("GET", f"pipelines/{pipeline['id']}/runs")
    assert runs["runs"] == []
