"""Per-node scheduling through the REST API: a bad value is refused with a 400 naming its key.
Runs with time limits, retries, CPU slots and GPUs are in test_run_engine.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nodes_api import add_node, setup_pipeline


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
