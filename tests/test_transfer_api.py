"""Export and import of a pipeline, through REST and the CLI, on a real server and database."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import psycopg
from test_cli_run import fusionpipe_command as fusionpipe
from test_nodes_api import add_node, connect, setup_pipeline

from fusionpipe_server.folders import exchange
from fusionpipe_server.store import edges as edge_store


async def export_zip(jp_fetch, pipeline_id):
    response = await jp_fetch(
        "fusionpipe", "api", "pipelines", pipeline_id, "export", raise_error=False
    )
    return response


def zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def make_zip(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            mode = stat.S_IFLNK | 0o777 if name in links else stat.S_IFREG | 0o644
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def shape(graph):
    """A graph as a user sees it: by tag, without ids."""
    tags = {node["id"]: node["tag"] for node in graph["nodes"]}
    groups = {group["id"]: group["tag"] for group in graph["groups"]}
    return {
        "nodes": sorted(
            (n["tag"], n["kind"], n["notes"], n["position"], groups.get(n["group"]))
            for n in graph["nodes"]
        ),
        "edges": sorted((tags[e["source"]], tags[e["target"]], e["slot"]) for e in graph["edges"]),
        "groups": sorted(
            (g["tag"], g["collapsed"], g["position"]["x"], g["size"]["width"])
            for g in graph["groups"]
        ),
    }


async def build_pipeline(api, tag="analysis"):
    """Tags with '/', unicode and a duplicate; two parents in slots 01 and 02; a collapsed
    group; notes on two lines; caches, an environment and outputs that must stay behind."""
    pipeline = await setup_pipeline(api, tag)
    load = await add_node(api, pipeline, "load/raw", position={"x": 0, "y": 0})
    fit = await add_node(api, pipeline, "fit", kind="notebook", position={"x": -80.5, "y": 120})
    again = await add_node(api, pipeline, "fit", kind="shell", position={"x": 80, "y": 120})
    plot = await add_node(api, pipeline, "Température plot", position={"x": 0, "y": 240})
    for parent, child in ((load, fit), (load, again), (fit, plot), (again, plot)):
        status, _ = await connect(api, pipeline, parent, child)
        assert status == 201
    url = f"pipelines/{pipeline['id']}"
    await api("PATCH", f"{url}/nodes/{plot['id']}", {"notes": "two\nlines"})
    status, group = await api(
        "POST", f"{url}/groups", {"node_ids": [fit["id"], again["id"]], "tag": "fits"}
    )
    assert status == 201
    await api("PATCH", f"groups/{group['id']}", {"collapsed": True})
    status, _ = await api("PUT", f"nodes/{fit['id']}/parameters", {"content": "alpha: 0.5\n"})
    assert status == 200
    code = Path(load["folder"]) / "code"
    (code / "lib").mkdir()
    (code / "lib" / "helpers.py").write_text("SCALE = 2\n")
    for cache in (".venv", "__pycache__", ".ipynb_checkpoints", ".git"):
        (code / cache).mkdir()
        (code / cache / "junk").write_text("left behind")
    (Path(load["folder"]) / "data" / "result.csv").write_text("1,2\n")
    return pipeline, {"load": load, "fit": fit, "again": again, "plot": plot}


async def test_export_is_a_stable_zip_without_ids_or_outputs(api, jp_fetch):
    pipeline, nodes = await build_pipeline(api)
    response = await export_zip(jp_fetch, pipeline["id"])
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="analysis.zip"'
    files = zip_files(response.body)
    folders = sorted({name.split("/")[1] for name in files if name != "pipeline.yaml"})
    assert folders == ["fit", "fit-2", "load-raw", "temperature-plot"]
    assert "nodes/load-raw/code/lib/helpers.py" in files
    assert not [n for n in files if "/data/" in n or ".venv" in n or "__pycache__" in n]
    assert not [n for n in files if ".ipynb_checkpoints" in n or "/.git/" in n]
    assert b"alpha: 0.5" in files["nodes/fit/code/node_parameters.yaml"]
    document = files["pipeline.yaml"].decode()
    assert "fusionpipe_version:" in document and "format_version: 1" in document
    assert "alpha" not in document, "parameters belong in node_parameters.yaml only"
    for node in nodes.values():
        assert node["id"] not in document and node["project_id"] not in document
    assert pipeline["id"] not in document
    assert (await export_zip(jp_fetch, pipeline["id"])).body == response.body


async def test_export_import_export_gives_the_same_bytes(api, jp_fetch, data_path):
    pipeline, nodes = await build_pipeline(api)
    for path in (Path(nodes["again"]["folder"]) / "code").iterdir():
        path.unlink()  # an empty code/ comes back empty, not missing
    first = (await export_zip(jp_fetch, pipeline["id"])).body
    assert "nodes/fit-2/code/" in zip_files(first)
    _, original = await api("GET", f"pipelines/{pipeline['id']}")
    # Another pipeline keeps the tag for the import, as the same pipeline at another site would.
    await api("PATCH", f"pipelines/{pipeline['id']}", {"tag": "analysis (old)"})

    status, imported = await api("POST", f"projects/{pipeline['project_id']}/import", raw=first)
    assert status == 201, imported
    assert (imported["tag"], imported["project_id"]) == ("analysis", pipeline["project_id"])
    _, graph = await api("GET", f"pipelines/{imported['id']}")
    assert shape(graph) == shape(original)
    assert {n["status"] for n in graph["nodes"]} == {"ready"}
    assert not {n["id"] for n in graph["nodes"]} & {n["id"] for n in original["nodes"]}
    plot = next(n for n in graph["nodes"] if n["tag"] == "Température plot")
    _, parents = await api("GET", f"nodes/{plot['id']}")
    assert Path(plot["folder"], "code", "main.py").is_file()
    assert not any(Path(plot["folder"], "data").iterdir())
    assert parents["pipelines"] == [imported["id"]]
    empty = next(n for n in graph["nodes"] if n["kind"] == "shell")
    assert list(Path(empty["folder"], "code").iterdir()) == []

    second = (await export_zip(jp_fetch, imported["id"])).body
    assert zip_files(second) == zip_files(first)
    assert second == first

    # Imported again beside it, the new pipeline gets a free tag.
    status, again = await api("POST", f"projects/{pipeline['project_id']}/import", raw=first)
    assert (status, again["tag"]) == (201, "analysis 2")


async def test_cli_round_trip_gives_a_byte_identical_folder(api, database_url, data_path, tmp_path):
    pipeline, nodes = await build_pipeline(api)
    exported = tmp_path / "exported"
    code, output = await fusionpipe(database_url, data_path, "export", "analysis", str(exported))
    assert code == 0, output
    assert "exported 'analysis' (4 nodes)" in output
    first = tree(exported)
    assert "pipeline.yaml" in first and "nodes/fit-2/code/main.sh" in first
    assert os.stat(exported / "nodes/fit-2/code/main.sh").st_mode & stat.S_IXUSR

    await api("PATCH", f"pipelines/{pipeline['id']}", {"tag": "analysis (old)"})
    code, output = await fusionpipe(
        database_url, data_path, "import", str(exported), "--project", "project-analysis"
    )
    assert code == 0, output
    assert "imported 'analysis'" in output and "4 nodes" in output
    again = tmp_path / "again"
    code, output = await fusionpipe(database_url, data_path, "export", "analysis", str(again))
    assert code == 0, output
    assert tree(again) == first

    # Exporting over a previous export (a git checkout) updates it and keeps what is not ours.
    (exported / ".git").mkdir()
    (exported / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{nodes['plot']['id']}")
    code, output = await fusionpipe(
        database_url, data_path, "export", pipeline["id"], str(exported)
    )
    assert code == 0, output
    updated = tree(exported)
    assert ".git/HEAD" in updated
    assert not [name for name in updated if name.startswith("nodes/temperature-plot/")]
    changed = {n for n in set(first) | set(updated) if first.get(n) != updated.get(n)}
    assert changed == {".git/HEAD", "pipeline.yaml"} | {
        n for n in first if n.startswith("nodes/temperature-plot/")
    }

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    code, output = await fusionpipe(database_url, data_path, "export", "analysis", str(other))
    assert code == 2 and "is not empty and holds no pipeline.yaml" in output
    code, output = await fusionpipe(
        database_url, data_path, "import", str(exported), "--project", "nowhere"
    )
    assert code == 2 and "no project with id or tag 'nowhere'" in output


def data_folder_entries(data_path: Path) -> list[str]:
    return sorted(p.relative_to(data_path).as_posix() for p in data_path.rglob("*"))


def pipeline_count(database_url) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM pipelines").fetchone()
    assert row is not None
    return int(row[0])


async def test_bad_zips_are_refused_and_change_nothing(
    api, jp_fetch, database_url, data_path, monkeypatch
):
    pipeline, _ = await build_pipeline(api)
    good = zip_files((await export_zip(jp_fetch, pipeline["id"])).body)
    document = good["pipeline.yaml"].decode()
    newer = document.replace("format_version: 1", "format_version: 7")
    long_tag = document.replace("    tag: fit\n", f"    tag: {'x' * 300}\n", 1)
    link = "nodes/fit/code/link"
    monkeypatch.setattr(exchange, "MAX_ENTRIES", len(good) + 5)
    monkeypatch.setattr(exchange, "MAX_UNPACKED_BYTES", 1024 * 1024)
    cases = {
        "not a zip": (b"PK-not-really", "not a zip file"),
        "parent path": (make_zip({**good, "../evil.py": b"x"}), "leads outside the export"),
        "absolute path": (make_zip({**good, "/etc/evil": b"x"}), "leads outside the export"),
        "link": (
            make_zip({**good, link: b"/etc/passwd"}, links=(link,)),
            "symbolic link",
        ),
        "bomb": (make_zip({**good, "nodes/fit/code/zeros": bytes(2 * 1024 * 1024)}), "unpacks to"),
        "entries": (make_zip({**good, **{f"x{i}": b"" for i in range(10)}}), "more than"),
        "corrupt yaml": (
            make_zip({**good, "pipeline.yaml": document.replace("nodes:", "nodes: [").encode()}),
            "pipeline.yaml is not valid YAML at line",
        ),
        "format version": (
            make_zip({**good, "pipeline.yaml": newer.encode()}),
            "format version 7; this fusionpipe reads format version 1 only",
        ),
        "missing code": (
            make_zip({k: v for k, v in good.items() if not k.startswith("nodes/fit-2/")}),
            "nodes/fit-2/code is missing",
        ),
        "bad parameters": (
            make_zip({**good, "nodes/fit/code/node_parameters.yaml": b"a: [\n"}),
            "nodes/fit/code: node_parameters.yaml is not valid YAML",
        ),
        "no pipeline.yaml": (make_zip({"readme.txt": b"hi"}), "holds no pipeline.yaml"),
        "long tag": (
            make_zip({**good, "pipeline.yaml": long_tag.encode()}),
            "pipeline.yaml: nodes.fit.tag is longer than 200 characters",
        ),
    }
    before_entries, before_count = data_folder_entries(data_path), pipeline_count(database_url)
    url = f"projects/{pipeline['project_id']}/import"
    for case, (body, message) in cases.items():
        status, answer = await api("POST", url, raw=body)
        assert status == 400, (case, answer)
        assert message in answer["message"], (case, answer)
    status, answer = await api("POST", "projects/pr_missing/import", raw=make_zip(good))
    assert status == 404 and "pr_missing" in answer["message"]
    assert data_folder_entries(data_path) == before_entries
    assert pipeline_count(database_url) == before_count
    assert not (data_path.parent / "evil.py").exists()


async def test_a_failure_midway_leaves_no_rows_and_no_folders(
    api, jp_fetch, database_url, data_path, monkeypatch
):
    pipeline, _ = await build_pipeline(api)
    body = (await export_zip(jp_fetch, pipeline["id"])).body
    before_entries, before_count = data_folder_entries(data_path), pipeline_count(database_url)

    async def broken(conn, edges):
        raise RuntimeError("the disk of the database is full")

    monkeypatch.setattr(edge_store, "insert_edges", broken)
    status, _ = await api("POST", f"projects/{pipeline['project_id']}/import", raw=body)
    assert status == 500
    assert data_folder_entries(data_path) == before_entries
    assert pipeline_count(database_url) == before_count
