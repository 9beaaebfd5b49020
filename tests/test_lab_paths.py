"""Node folders reachable from the file browser even when the data folder is outside the root."""

from __future__ import annotations

import json
import os

from test_nodes_api import add_node, setup_pipeline

from fusionpipe_server.folders.lab_paths import lab_path, link_data_folder


async def test_a_node_outside_the_root_opens_through_the_data_link(
    api, jp_fetch, jp_root_dir, data_path
):
    # pytest-jupyter's root and the test's data folder are siblings: the data is outside.
    assert not data_path.is_relative_to(jp_root_dir)
    node = await add_node(api, await setup_pipeline(api), "fit")
    status, details = await api("GET", f"nodes/{node['id']}")
    assert status == 200
    assert details["lab_path"] == f"fusionpipe-data/{details['project_id']}/{node['id']}"
    assert (jp_root_dir / "fusionpipe-data").resolve() == data_path.resolve()

    response = await jp_fetch("api", "contents", *details["lab_path"].split("/"), "code")
    listing = json.loads(response.body)
    assert "main.py" in {entry["name"] for entry in listing["content"]}


def test_a_data_folder_inside_the_root_needs_no_link(tmp_path):
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert link_data_folder(tmp_path, tmp_path / "shared" / "data", "fusionpipe-data") == (
        "shared/data"
    )
    assert not (tmp_path / "fusionpipe-data").exists()
    assert lab_path("shared/data", "pr_1/n_1") == "shared/data/pr_1/n_1"
    assert link_data_folder(tmp_path, tmp_path, "fusionpipe-data") == "."
    assert lab_path(".", "pr_1/n_1") == "pr_1/n_1"


def test_the_link_is_made_once_and_reused(tmp_path):
    root, data = tmp_path / "home", tmp_path / "srv"
    root.mkdir(), data.mkdir()
    assert link_data_folder(root, data, "fp") == "fp"
    assert link_data_folder(root, data, "fp") == "fp"
    assert os.readlink(root / "fp") == str(data)


def test_a_name_taken_by_something_else_is_never_replaced(tmp_path):
    root, data, other = tmp_path / "home", tmp_path / "srv", tmp_path / "other"
    for folder in (root, data, other):
        folder.mkdir()
    (root / "mine").mkdir()
    (root / "mine" / "thesis.tex").write_text("keep me")
    os.symlink(other, root / "elsewhere")
    assert link_data_folder(root, data, "mine") is None
    assert (root / "mine" / "thesis.tex").read_text() == "keep me"
    assert link_data_folder(root, data, "elsewhere") is None
    assert os.readlink(root / "elsewhere") == str(other)
    assert link_data_folder(root, data, "") is None
    assert lab_path(None, "pr_1/n_1") is None
