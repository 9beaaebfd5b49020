"""An installation of the original fusionpipe (v2.2.0), built from its documented schema: a
database and a data folder of node folders in the original layout, whose code uses the
original node API (``fp_user_utils.user_api``)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from fusionpipe_server.folders.venvs import uv_binary

SCHEMA = """
CREATE TABLE projects (project_id TEXT PRIMARY KEY, tag TEXT, notes TEXT, owner TEXT);
CREATE TABLE pipelines (
    pipeline_id TEXT PRIMARY KEY, tag TEXT UNIQUE, owner TEXT, notes TEXT,
    project_id TEXT REFERENCES projects (project_id), blocked BOOLEAN DEFAULT FALSE);
CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    status TEXT DEFAULT 'ready'
        CHECK (status IN ('ready', 'running', 'completed', 'failed', 'staledata')),
    referenced BOOLEAN DEFAULT FALSE, notes TEXT, folder_path TEXT, node_tag TEXT,
    blocked BOOLEAN DEFAULT FALSE, project_id TEXT REFERENCES projects (project_id));
CREATE TABLE processes (
    process_id TEXT PRIMARY KEY, node_id TEXT, status TEXT DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    start_time TIMESTAMP, end_time TIMESTAMP);
CREATE TABLE node_relation (
    id SERIAL PRIMARY KEY, child_id TEXT REFERENCES nodes (node_id),
    parent_id TEXT REFERENCES nodes (node_id), edge_id TEXT);
CREATE TABLE node_pipeline_relation (
    node_id TEXT REFERENCES nodes (node_id), pipeline_id TEXT REFERENCES pipelines (pipeline_id),
    last_update TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    position_x DOUBLE PRECISION DEFAULT 0, position_y DOUBLE PRECISION DEFAULT 0,
    PRIMARY KEY (node_id, pipeline_id));
CREATE TABLE pipeline_relation (
    id SERIAL PRIMARY KEY, child_id TEXT REFERENCES pipelines (pipeline_id),
    parent_id TEXT REFERENCES pipelines (pipeline_id));
CREATE TABLE node_groups (
    group_id TEXT PRIMARY KEY, pipeline_id TEXT REFERENCES pipelines (pipeline_id), tag TEXT,
    collapsed BOOLEAN DEFAULT FALSE, pos_x DOUBLE PRECISION DEFAULT 0,
    pos_y DOUBLE PRECISION DEFAULT 0, width DOUBLE PRECISION DEFAULT 400,
    height DOUBLE PRECISION DEFAULT 300);
CREATE TABLE node_group_relation (
    node_id TEXT PRIMARY KEY REFERENCES nodes (node_id),
    group_id TEXT REFERENCES node_groups (group_id));
"""

# What every original node ran: `uv run main.py` in code/, finding itself from .node_id.
MAIN_PY = """\
import os

import six
from fp_user_utils.user_api import (
    connect_to_db,
    get_current_node_folder_path_data,
    get_current_node_id,
    get_info_parents,
    get_node_parents_and_edge_ids,
    get_parent_folder_path_from_edge_id,
)

print("Running main template.py")
node_id = get_current_node_id()
conn = connect_to_db()
cur = conn.cursor()
slots = sorted(get_node_parents_and_edge_ids(cur, node_id).values())
conn.close()
first = get_parent_folder_path_from_edge_id("01")
lines = []
for slot in slots:
    folder = first if slot == "01" else get_parent_folder_path_from_edge_id(slot)
    with open(os.path.join(folder, "data", "result.txt")) as stream:
        lines.append(slot + ": " + stream.read().strip())
lines.append("six " + six.__version__)
lines.append("tags " + ",".join(p["node_tag"] for p in get_info_parents(node_id)))
with open(os.path.join(get_current_node_folder_path_data(), "result.txt"), "w") as stream:
    stream.write("\\n".join([*lines, node_id]) + "\\n")
"""

ORIGINAL_SOURCE = "fp_user_utils_original"


def _pyproject(name: str, source: Path) -> str:
    return (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["fp-user-utils", "six==1.16.0"]\n\n'
        f'[tool.uv.sources]\nfp-user-utils = {{ path = "{source}", editable = true }}\n'
    )


def original_source_tree(root: Path) -> Path:
    """The original's own fp_user_utils project, made to fail loudly if a node used it."""
    source = root / ORIGINAL_SOURCE
    (source / "src" / "fp_user_utils").mkdir(parents=True)
    (source / "pyproject.toml").write_text(
        '[project]\nname = "fp-user-utils"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    )
    (source / "src" / "fp_user_utils" / "user_api.py").write_text(
        'raise ImportError("the original fp_user_utils was used")\n'
    )
    return source


def lock_template(root: Path, source: Path) -> str:
    """A real uv.lock for a node project named ``n-template`` (uv lock, once)."""
    project = root / "lock-template"
    project.mkdir()
    (project / "pyproject.toml").write_text(_pyproject("n-template", source))
    subprocess.run(
        [uv_binary(), "lock", "--project", str(project)], check=True, capture_output=True
    )
    return (project / "uv.lock").read_text()


def notebook(kernel: str) -> str:
    return json.dumps(
        {
            "cells": [],
            "metadata": {
                "kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


@dataclass
class Original:
    """The installation: ``dsn`` of its database and ``data`` its FUSIONPIPE_DATA_PATH."""

    dsn: str
    data: Path
    source: Path
    lock: str
    ids: dict[str, str] = field(default_factory=dict)  # short name -> id

    def execute(self, query: str, params: tuple = ()) -> None:  # type: ignore[type-arg]
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(query, params)

    def add_node(
        self,
        name: str,
        tag: str | None,
        project: str,
        pipelines: dict[str, tuple[float, float]],
        *,
        status: str | None = "ready",
        blocked: bool = False,
        folder: bool = True,
        result: str | None = None,
    ) -> str:
        node_id = f"n_20250301{len(self.ids):06d}_{3000 + len(self.ids)}"
        self.ids[name] = node_id
        project_id = self.ids[project]
        path = self.data / project_id / node_id
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO nodes (node_id, status, notes, folder_path, node_tag, blocked, "
                "project_id, referenced) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    node_id,
                    status,
                    f"notes of {name}",
                    str(path),
                    tag,
                    blocked,
                    project_id,
                    len(pipelines) > 1,
                ),
            )
            for pipeline, (x, y) in pipelines.items():
                conn.execute(
                    "INSERT INTO node_pipeline_relation (node_id, pipeline_id, position_x, "
                    "position_y) VALUES (%s, %s, %s, %s)",
                    (node_id, self.ids[pipeline], x, y),
                )
        if folder:
            self._node_folder(path, node_id, result, blocked)
        return node_id

    def _node_folder(self, path: Path, node_id: str, result: str | None, blocked: bool) -> None:
        code = path / "code"
        (code / "examples").mkdir(parents=True)
        (path / "data").mkdir()
        (path / "reports").mkdir()
        name = node_id.replace("_", "-")
        (code / "main.py").write_text(MAIN_PY)
        (code / "pyproject.toml").write_text(_pyproject(name, self.source))
        (code / "uv.lock").write_text(self.lock.replace("n-template", name))
        (code / ".python-version").write_text("3.11\n")
        (code / ".node_id").write_text(node_id + "\n")
        (code / "node_parameters.yaml").write_text('run_mode: "local"\n')
        (code / "examples" / "__init__.py").write_text("")
        (code / "examples" / "example_notebook.ipynb").write_text(notebook(node_id))
        (code / ".venv").mkdir()
        (code / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (path / "logs.txt").write_text(f"\n---\nNode {node_id} execution starting\n")
        if result is not None:
            (path / "data" / "result.txt").write_text(result + "\n")
        if blocked:  # what the original's block did to a node folder
            for root, dirs, files in os.walk(path):
                for name_ in files:
                    os.chmod(os.path.join(root, name_), 0o444)
                for name_ in dirs:
                    os.chmod(os.path.join(root, name_), 0o555)
            os.chmod(path, 0o555)

    def add_edge(self, parent: str, child: str, slot: str | None) -> None:
        self.execute(
            "INSERT INTO node_relation (child_id, parent_id, edge_id) VALUES (%s, %s, %s)",
            (self.ids[child], self.ids[parent], slot),
        )


def build_original(dsn: str, root: Path) -> Original:
    """Two projects, four pipelines (one blocked, one a branch of another), 29 nodes (one in no
    pipeline), a node with two parents, a node in two pipelines, two groups (one collapsed),
    mixed statuses including NULL and running, one member whose folder is gone."""
    source = original_source_tree(root)
    original = Original(dsn, root / "original-data", source, lock_template(root, source))
    original.data.mkdir()
    original.execute(SCHEMA)
    ids = original.ids
    ids.update(physics="pr_20250301093000_1001", chemistry="pr_20250301093000_1002")
    original.execute(
        "INSERT INTO projects VALUES (%s, 'physics', 'shots and fits', NULL), "
        "(%s, 'chemistry', NULL, 'alice')",
        (ids["physics"], ids["chemistry"]),
    )
    for name, tag, project, blocked in [
        ("shots", "shots", "physics", False),
        ("branch", "shots-branch", "physics", False),
        ("published", "published", "physics", True),
        ("chem", None, "chemistry", False),
    ]:
        ids[name] = f"p_20250301093500_{2001 + len(ids) - 2}"
        original.execute(
            "INSERT INTO pipelines (pipeline_id, tag, notes, project_id, blocked) "
            "VALUES (%s, %s, %s, %s, %s)",
            (ids[name], tag, f"notes of {name}", ids[project], blocked),
        )
    original.execute(
        "INSERT INTO pipeline_relation (child_id, parent_id) VALUES (%s, %s)",
        (ids["branch"], ids["shots"]),
    )
    add = original.add_node
    add(
        "a1",
        "load shots",
        "physics",
        {"shots": (0, 0), "branch": (5, 5)},
        status="completed",
        result="shots data",
    )
    add("a2", "calibrate", "physics", {"shots": (200, 0)}, status="completed", result="calibration")
    add("combine", "combine", "physics", {"shots": (100, 120)})
    add("fit", "fit", "physics", {"shots": (100, 240)}, status="staledata")
    add("plot", "plot", "physics", {"shots": (100, 360)}, status="failed")
    add("report", "report", "physics", {"shots": (100, 480)})
    add("pending", "pending ray", "physics", {"shots": (300, 240)}, status=None)
    add("busy", "busy", "physics", {"shots": (300, 120)}, status="running")
    add("gone", "gone", "physics", {"shots": (400, 0)}, folder=False)
    add("b1", "fit v2", "physics", {"branch": (5, 120)})
    add("b2", "plot v2", "physics", {"branch": (5, 240)})
    for index in range(1, 8):
        add(
            f"d{index}",
            f"final {index}",
            "physics",
            {"published": (index * 50.0, 10)},
            status="completed",
            blocked=True,
            result=f"final {index}",
        )
    for index in range(1, 11):
        add(f"e{index}", f"chem {index}", "chemistry", {"chem": (10, index * 60.0)})
    add("ghost", "deleted", "chemistry", {}, status="completed", folder=False)
    for parent, child, slot in [
        ("a1", "combine", "01"), ("a2", "combine", "02"), ("combine", "fit", "01"),
        ("fit", "plot", "01"), ("plot", "report", "01"), ("fit", "pending", "01"),
        ("a1", "busy", "01"), ("a1", "b1", "01"), ("b1", "b2", "01"),
        ("d1", "d2", "01"), ("d2", "d3", "01"), ("d1", "d4", "01"), ("d6", "d7", "01"),
        ("e1", "e2", "01"), ("e2", "e3", "01"), ("e3", "e4", "01"), ("e4", "e5", "01"),
        ("ghost", "e6", "01"), ("e6", "e7", "01"), ("e7", "e8", "01"),
    ]:  # fmt: skip
        original.add_edge(parent, child, slot)
    ids.update(folded="ng_20250301100000_4001", open="ng_20250301100000_4002")
    original.execute(
        "INSERT INTO node_groups VALUES (%s, %s, 'inputs', TRUE, 1, 2, 300, 200), "
        "(%s, %s, 'middle', FALSE, 3, 4, 500, 400)",
        (ids["folded"], ids["chem"], ids["open"], ids["chem"]),
    )
    for node, group in [("e1", "folded"), ("e2", "folded"), ("e3", "folded"),
                        ("e4", "open"), ("e5", "open")]:  # fmt: skip
        original.execute("INSERT INTO node_group_relation VALUES (%s, %s)", (ids[node], ids[group]))
    return original
