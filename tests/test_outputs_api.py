"""A node's outputs through the REST API: listing, files, heads, and paths that try to escape."""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import pytest
from test_nodes_api import add_node, setup_pipeline

from fusionpipe_server.errors import Invalid
from fusionpipe_server.handlers import openapi
from fusionpipe_server.service.graph.outputs import LIST_LIMIT, resolve_output

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def fetch(jp_fetch, *parts, **params):
    response = await jp_fetch(
        "fusionpipe", "api", *parts, params=params, method="GET", raise_error=False
    )
    return response


async def test_outputs_are_listed_with_sizes_and_kinds(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "plot")
    folder = Path(node["folder"])
    (folder / "data" / "table.csv").write_text("a,b\n1,2\n")
    (folder / "data" / "nested").mkdir()
    (folder / "data" / "nested" / "weights.bin").write_bytes(b"\0" * 1000)
    (folder / "reports" / "figure.png").write_bytes(PNG)
    (folder / "reports" / "summary.html").write_text("<p>hi</p>")
    (folder / "code" / "secret.txt").write_text("not an output")
    (folder / "reports" / ".ipynb_checkpoints").mkdir()
    (folder / "reports" / ".ipynb_checkpoints" / "figure-checkpoint.png").write_bytes(PNG)
    (folder / "data" / ".hidden").write_text("left out")

    status, listing = await api("GET", f"nodes/{node['id']}/outputs")
    assert status == 200
    # Each folder's own files first, then those of subfolders.
    assert listing["entries"] == [
        {"path": "data/table.csv", "size": 8, "kind": "csv"},
        {"path": "reports/figure.png", "size": len(PNG), "kind": "image"},
        {"path": "reports/summary.html", "size": 9, "kind": "html"},
        {"path": "data/nested/weights.bin", "size": 1000, "kind": "other"},
    ]
    assert (listing["total"], listing["complete"]) == (4, True)
    assert (await api("GET", "nodes/n_missing/outputs"))[0] == 404


async def test_a_large_folder_lists_its_first_entries_and_counts_the_rest(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "many")
    for index in range(LIST_LIMIT + 50):
        (Path(node["folder"]) / "data" / f"part-{index:04d}.txt").write_text("x")
    _, listing = await api("GET", f"nodes/{node['id']}/outputs")
    assert len(listing["entries"]) == LIST_LIMIT
    assert listing["entries"][0]["path"] == "data/part-0000.txt"
    assert (listing["total"], listing["complete"]) == (LIST_LIMIT + 50, True)


async def test_a_file_is_served_with_its_type_and_scripts_blocked(api, jp_fetch):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "plot")
    folder = Path(node["folder"])
    (folder / "reports" / "figure.png").write_bytes(PNG)
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    (folder / "reports" / "vector.svg").write_text(svg)
    (folder / "data" / "long.csv").write_text("".join(f"{i},{i * i}\n" for i in range(1000)))

    png = await fetch(jp_fetch, "nodes", node["id"], "outputs", "reports", "figure.png")
    assert png.code == 200 and png.body == PNG
    assert png.headers["Content-Type"] == "image/png"
    vector = await fetch(jp_fetch, "nodes", node["id"], "outputs", "reports", "vector.svg")
    assert vector.headers["Content-Type"] == "image/svg+xml"
    assert "sandbox" in vector.headers["Content-Security-Policy"]
    assert "script-src" not in vector.headers["Content-Security-Policy"]
    assert vector.headers["X-Content-Type-Options"] == "nosniff"
    head = await fetch(jp_fetch, "nodes", node["id"], "outputs", "data", "long.csv", head="3")
    assert head.body.decode() == "0,0\n1,1\n2,4\n"
    assert head.headers["Content-Type"].startswith("text/plain")


async def test_paths_that_leave_data_or_reports_are_refused(api, jp_fetch, tmp_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "plot")
    folder = Path(node["folder"])
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("private")
    os.symlink(outside, folder / "data" / "link-out.txt")
    os.symlink(tmp_path, folder / "reports" / "dir-out")
    (folder / "data" / "inside.txt").write_text("ok")
    os.symlink(folder / "data" / "inside.txt", folder / "data" / "link-in.txt")

    _, listing = await api("GET", f"nodes/{node['id']}/outputs")
    listed = [entry["path"] for entry in listing["entries"]]
    assert listed == ["data/inside.txt", "data/link-in.txt"]
    inside = await fetch(jp_fetch, "nodes", node["id"], "outputs", "data", "link-in.txt")
    assert inside.body == b"ok"
    for path in (
        "data/link-out.txt",
        "reports/dir-out/elsewhere.txt",
        "code/node_parameters.yaml",
        "data/../code/main.py",
        "data",
        "logs/x.log",
    ):
        response = await fetch(jp_fetch, "nodes", node["id"], "outputs", *path.split("/"))
        assert response.code == 400, path
        assert "data/" in response.body.decode() or "out of" in response.body.decode()
    missing = await fetch(jp_fetch, "nodes", node["id"], "outputs", "data", "nothing.txt")
    assert missing.code == 404
    bad_head = await fetch(jp_fetch, "nodes", node["id"], "outputs", "data", "inside.txt", head="0")
    assert bad_head.code == 400


async def test_the_document_says_which_output_paths_are_served(api, jp_fetch):
    """The OpenAPI pattern of ``path`` is the server's rule: what it allows is served (or a 404
    when there is no such file), what it refuses is a 400, even another spelling of a file."""
    pattern = openapi.document()["paths"]["/nodes/{node_id}/outputs/{path}"]["parameters"][1]
    assert pattern["name"] == "path"
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    (Path(node["folder"]) / "data" / "inside.txt").write_text("ok")
    for path, served in (
        ("data/inside.txt", 200),
        ("reports/none.txt", 404),
        ("data/...", 404),
        ("h\N{EMOJI MODIFIER FITZPATRICK TYPE-1-2} ", 400),
        ("data//inside.txt", 400),
        ("data/./inside.txt", 400),
        ("data/inside.txt/", 400),
    ):
        allowed = re.search(pattern["schema"]["pattern"], path) is not None
        assert allowed == (served != 400), path
        quoted = urllib.parse.quote(path)  # as one piece: joining pieces drops empty ones
        response = await fetch(jp_fetch, "nodes", node["id"], "outputs", quoted)
        assert response.code == served, (path, response.body)


def test_absolute_paths_are_refused(tmp_path):
    (tmp_path / "data").mkdir()
    for path in ("/etc/passwd", "/data/x", "", "data/\0x"):
        with pytest.raises(Invalid):
            resolve_output(tmp_path, path)


async def test_an_empty_file_keeps_its_type(api, jp_fetch):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "empty")
    (Path(node["folder"]) / "data" / "nothing.csv").write_text("")
    response = await fetch(jp_fetch, "nodes", node["id"], "outputs", "data", "nothing.csv")
    assert (response.code, response.body) == (200, b"")
    assert response.headers["Content-Type"].startswith("text/csv")
