"""Every node has a Jupyter kernel that any user of the server can pick, knowing its node."""

from __future__ import annotations

import json

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from test_nodes_api import add_node, setup_pipeline


async def kernelspecs(jp_fetch):
    response = await jp_fetch("api", "kernelspecs")
    return json.loads(response.body)["kernelspecs"]


async def test_a_node_kernel_is_listed_and_runs_code_as_that_node(api, jp_fetch, data_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "fit")
    name = f"fusionpipe-{node['id']}"
    specs = await kernelspecs(jp_fetch)
    assert name in specs
    spec = specs[name]["spec"]
    assert spec["display_name"] == f"fusionpipe: fit ({node['id']})"
    assert spec["env"]["FUSIONPIPE_NODE_FOLDER"] == node["folder"]

    manager = AsyncKernelManager(
        kernel_name=name,
        kernel_spec_manager=KernelSpecManager(
            kernel_dirs=[str(data_path / ".fusionpipe" / "kernels")]
        ),
    )
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        outputs = []
        await client.execute_interactive(
            "import fusionpipe; print(fusionpipe.node_id(), fusionpipe.parameters())",
            output_hook=lambda msg: outputs.append(msg["content"].get("text", "")),
            timeout=60,
        )
        assert "".join(outputs).strip() == f"{node['id']} {{'run_mode': 'local'}}"
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def test_renaming_a_node_renames_its_kernel_and_deleting_it_removes_it(api, jp_fetch):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "old")
    name = f"fusionpipe-{node['id']}"
    await api("PATCH", f"pipelines/{pipeline['id']}/nodes/{node['id']}", {"tag": "new"})
    assert (await kernelspecs(jp_fetch))[name]["spec"]["display_name"].startswith("fusionpipe: new")
    await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{node['id']}")
    assert name not in await kernelspecs(jp_fetch)
    # Restored from the trash, its kernel is offered again.
    _, trash = await api("GET", "trash")
    status, _ = await api("POST", f"trash/{trash['items'][0]['id']}/restore")
    assert status == 200
    assert name in await kernelspecs(jp_fetch)
