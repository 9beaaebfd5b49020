"""The example pipeline: made by the REST API and by `fusionpipe example`, in a project of its
own, and run end to end headless (the plot node's matplotlib environment built by uv)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg


async def test_post_examples_makes_the_example_in_a_project_of_its_own(api):
    status, pipeline = await api("POST", "examples")
    assert status == 201, pipeline
    assert pipeline["tag"] == "example"
    _, project = await api("GET", f"projects/{pipeline['project_id']}")
    assert project["tag"] == "example" and "matplotlib" in project["notes"]

    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    nodes = {node["tag"]: node for node in graph["nodes"]}
    assert {tag: node["kind"] for tag, node in nodes.items()} == {
        "make data": "python",
        "fit": "notebook",
        "plot": "python",
        "report": "python",
    }
    assert all(node["status"] == "ready" for node in nodes.values())
    tags = {node["id"]: node["tag"] for node in graph["nodes"]}
    assert sorted((tags[e["source"]], tags[e["target"]], e["slot"]) for e in graph["edges"]) == [
        ("fit", "plot", "02"),
        ("fit", "report", "01"),
        ("make data", "fit", "01"),
        ("make data", "plot", "01"),
        ("plot", "report", "02"),
    ]
    # Laid out so that no node hides another on the canvas.
    assert len({(n["position"]["x"], n["position"]["y"]) for n in nodes.values()}) == 4

    _, parameters = await api("GET", f"nodes/{nodes['make data']['id']}/parameters")
    # make data is mapped, one item per slope.
    assert "map:\n  slope: [0.5, 1.0, 2.5]\n" in parameters["content"]
    plot = Path(nodes["plot"]["folder"])
    assert "matplotlib" in (plot / "code" / "requirements.txt").read_text()
    _, details = await api("GET", f"nodes/{nodes['plot']['id']}")
    assert details["environment"] == "missing"  # its own, built at its first run
    _, details = await api("GET", f"nodes/{nodes['report']['id']}")
    assert details["environment"] == "none"  # the server's Python

    status, again = await api("POST", "examples")
    assert status == 201 and again["tag"] == "example-2"
    _, other = await api("GET", f"projects/{again['project_id']}")
    assert other["tag"] == "example-2" and other["id"] != project["id"]


async def test_a_failure_half_way_leaves_no_project_behind(api, data_path):
    # No node folder can be made under a data folder that is a file.
    data_path.rmdir()
    data_path.write_text("not a folder")
    status, _ = await api("POST", "examples")
    assert status >= 400
    _, listed = await api("GET", "projects")
    assert listed["projects"] == []
    _, pipelines = await api("GET", "pipelines")
    assert pipelines["pipelines"] == []
    assert data_path.read_text() == "not a folder"


def fusionpipe(database_url, data_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_example_runs_end_to_end_from_the_command_line(database_url, data_path):
    made = fusionpipe(database_url, data_path, "example")
    assert made.returncode == 0, made.stderr
    assert "made the example pipeline 'example'" in made.stdout
    assert "fusionpipe run example" in made.stdout

    ran = fusionpipe(database_url, data_path, "run", "example")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # "ok   fit 6.0s", and for the mapped node "ok   make data 0.6s [3 of 3 items completed]".
    finished = [
        re.fullmatch(r"\s*(\w+)\s+(.+) [\d.]+s( \[.+ items .+\])?", line)
        for line in ran.stdout.splitlines()[1:-1]
    ]
    assert all(finished), ran.stdout
    assert sorted((m[1], m[2], m[3] or "") for m in finished if m) == [
        ("ok", "fit", ""),
        ("ok", "make data", " [3 of 3 items completed]"),
        ("ok", "plot", ""),
        ("ok", "report", ""),
    ], ran.stdout
    assert ran.stdout.splitlines()[-1] == "fusionpipe: run completed"

    # make data ran once per slope, each item in its own folder, listed for the nodes gathering.
    (make_data,) = {path.parent for path in data_path.glob("*/*/items.json")}
    listing = json.loads((make_data / "items.json").read_text())
    assert [{k: i[k] for k in ("id", "values", "status")} for i in listing["items"]] == [
        {"id": f"slope={slope}", "values": {"slope": slope}, "status": "completed"}
        for slope in (0.5, 1.0, 2.5)
    ]
    assert [i["metrics"]["points"] for i in listing["items"]] == [50, 50, 50]
    for item in listing["items"]:
        points = make_data / "data" / item["id"] / "points.csv"
        assert points.read_text().count("\n") == 51  # header and 50 points

    outputs = {path.name: path for path in data_path.glob("*/*/data/*")}
    assert outputs["fit.png"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    fits = json.loads(outputs["summary.json"].read_text())
    assert sorted(fits) == ["slope=0.5", "slope=1.0", "slope=2.5"]
    for fit in fits.values():
        assert abs(fit["slope"] - fit["true_slope"]) < 0.2
    assert fits["slope=2.5"]["r_squared"] > 0.9
    (report,) = data_path.glob("*/*/reports/report.html")
    assert "data:image/png;base64,iVBORw0KGgo" in report.read_text()
    assert report.read_text().count("<tr><th>slope=") == 3
    (executed,) = data_path.glob("*/*/reports/main-*.ipynb")
    assert "fit.json" in executed.read_text()

    # What node code recorded with fusionpipe.metrics(): per item (make data), per run (fit).
    with psycopg.connect(database_url) as conn:
        per_item = dict(conn.execute("SELECT item_id, metrics FROM node_items").fetchall())
        (per_run,) = conn.execute("SELECT metrics FROM run_nodes WHERE metrics <> '{}'").fetchone()
    assert sorted(per_item) == ["slope=0.5", "slope=1.0", "slope=2.5"]
    assert all(m["points"] == 50 and 1 < m["noise_drawn"] < 2 for m in per_item.values())
    assert per_run["slopes"] == 3 and per_run["largest_slope_error"] < 0.2
