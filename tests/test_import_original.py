"""``fusionpipe admin import-original``: an original fusionpipe installation (database + node
folders) brought over whole, incrementally, without touching the original; its nodes run
unchanged; the original database is refused by migrate and by the server."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys

import psycopg
import pytest
from conftest import create_database, drop_database
from original_fusionpipe import build_original

import fp_user_utils
from fusionpipe_server.errors import Conflict, Unavailable
from fusionpipe_server.store.database import check_schema


@pytest.fixture
def original(pg_admin_dsn, tmp_path):
    name = f"fp_original_{secrets.token_hex(5)}"
    dsn = create_database(pg_admin_dsn, name)
    yield build_original(dsn, tmp_path)
    drop_database(pg_admin_dsn, name)


def fusionpipe(*args, env=None):
    process = subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return process.returncode, process.stdout + process.stderr


def import_original(original, database_url, data_path, *extra, from_dsn=None, from_data=None):
    return fusionpipe(
        "admin",
        "import-original",
        "--from",
        from_dsn or original.dsn,
        "--from-data",
        str(from_data or original.data),
        "--database-url",
        database_url,
        "--data-path",
        str(data_path),
        "--default-owner",
        "labadmin",
        *extra,
    )


def rows(dsn, query, params=()):
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def database_snapshot(dsn):
    """Every row of every table, to show a database did not change."""
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            t: sorted(map(str, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables
        }


def tree_snapshot(root):
    """Every path under ``root`` with its mode and content, to show a folder did not change."""
    found = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        found[str(path.relative_to(root))] = (mode, content)
    return found


def counts_line(output, kind):
    line = next(line for line in output.splitlines() if line.split()[1:2] == [kind])
    return [int(value) for value in line.split()[2:]]


async def test_import_brings_every_kind_and_relation_and_leaves_the_original_alone(
    original, database_url, data_path
):
    ids = original.ids
    before_db, before_tree = database_snapshot(original.dsn), tree_snapshot(original.data)
    code, output = import_original(original, database_url, data_path)
    assert code == 0, output

    # Counts beside the original's: original, imported, already here, skipped.
    assert counts_line(output, "projects") == [2, 2, 0, 0]
    assert counts_line(output, "pipelines") == [4, 4, 0, 0]
    assert counts_line(output, "nodes") == [29, 28, 0, 1]
    assert counts_line(output, "memberships") == [29, 29, 0, 0]
    assert counts_line(output, "edges") == [20, 19, 0, 1]
    assert counts_line(output, "groups") == [2, 2, 0, 0]
    assert counts_line(output, "lineage") == [1, 1, 0, 0]

    assert rows(database_url, "SELECT id, tag, notes, owner FROM projects ORDER BY id") == [
        (ids["physics"], "physics", "shots and fits", "labadmin"),
        (ids["chemistry"], "chemistry", "", "alice"),
    ]
    pipelines = rows(database_url, "SELECT id, project_id, tag, owner, locked FROM pipelines")
    assert sorted(pipelines) == sorted(
        [
            (ids["shots"], ids["physics"], "shots", "labadmin", False),
            (ids["branch"], ids["physics"], "shots-branch", "labadmin", False),
            (ids["published"], ids["physics"], "published", "labadmin", True),
            (ids["chem"], ids["chemistry"], ids["chem"], "labadmin", False),  # NULL tag: its id
        ]
    )
    assert rows(database_url, "SELECT child_id, parent_id, relation FROM pipeline_lineage") == [
        (ids["branch"], ids["shots"], "branch")
    ]

    nodes = {
        row[0]: row[1:]
        for row in rows(
            database_url,
            "SELECT id, project_id, tag, notes, kind, status, locked, owner, folder FROM nodes",
        )
    }
    assert len(nodes) == 28 and ids["ghost"] not in nodes
    os_owner = pwd.getpwuid(original.data.stat().st_uid).pw_name
    assert nodes[ids["combine"]] == (
        ids["physics"], "combine", "notes of combine", "python", "ready", False, os_owner,
        f"{ids['physics']}/{ids['combine']}",
    )  # fmt: skip
    statuses = {name: nodes[ids[name]][4] for name in ("a1", "fit", "plot", "pending", "busy")}
    assert statuses == {
        "a1": "completed",
        "fit": "staledata",
        "plot": "failed",
        "pending": "failed",  # NULL in the original
        "busy": "failed",  # running in the original: nothing runs it here
    }
    assert all(nodes[ids[f"d{i}"]][5] for i in range(1, 8)), "blocked nodes come in locked"
    assert not any(nodes[ids[f"e{i}"]][5] for i in range(1, 11))
    assert nodes[ids["gone"]][6] == "labadmin", "no folder, no OS owner: the default owner"

    members = {
        (r[0], r[1]): (r[2], r[3], r[4])
        for r in rows(
            database_url, "SELECT pipeline_id, node_id, x, y, group_id FROM pipeline_nodes"
        )
    }
    assert len(members) == 29
    assert members[(ids["shots"], ids["a2"])] == (200, 0, None)
    assert members[(ids["branch"], ids["a1"])] == (5, 5, None)
    holding_a1 = rows(database_url, "SELECT pipeline_id FROM pipeline_nodes WHERE node_id = %s",
                      (ids["a1"],))  # fmt: skip
    assert sorted(r[0] for r in holding_a1) == sorted([ids["shots"], ids["branch"]])
    groups = rows(
        database_url, "SELECT id, pipeline_id, tag, collapsed, x, y, width, height FROM node_groups"
    )
    assert sorted(groups) == [
        (ids["folded"], ids["chem"], "inputs", True, 1, 2, 300, 200),
        (ids["open"], ids["chem"], "middle", False, 3, 4, 500, 400),
    ]
    assert {name: members[(ids["chem"], ids[name])][2] for name in ("e1", "e3", "e4", "e6")} == {
        "e1": ids["folded"],
        "e3": ids["folded"],
        "e4": ids["open"],
        "e6": None,
    }

    edges = {
        (r[0], r[1]): r[2]
        for r in rows(database_url, "SELECT parent_id, child_id, slot FROM edges")
    }
    assert len(edges) == 19
    assert edges[(ids["a1"], ids["combine"])] == "01"
    assert edges[(ids["a2"], ids["combine"])] == "02"
    assert (ids["ghost"], ids["e6"]) not in edges

    # Folders: copied whole but for environments, with this fusionpipe's identity and layout.
    folder = data_path / ids["physics"] / ids["combine"]
    assert (folder / "code" / "main.py").is_file() and (folder / "code" / "uv.lock").is_file()
    assert (folder / "code" / ".node_id").is_file() and (folder / "logs.txt").is_file()
    assert not (folder / "code" / ".venv").exists()
    assert all((folder / sub).is_dir() for sub in ("code", "data", "reports", "logs"))
    identity = json.loads((folder / ".fusionpipe-node.json").read_text())
    assert identity["node_id"] == ids["combine"]
    assert [(p["id"], p["slot"]) for p in identity["parents"]] == [
        (ids["a1"], "01"),
        (ids["a2"], "02"),
    ]
    kernel = json.loads((folder / "code" / "examples" / "example_notebook.ipynb").read_text())
    assert kernel["metadata"]["kernelspec"]["name"] == f"fusionpipe-{ids['combine']}"
    assert (data_path / ids["physics"] / ids["a1"] / "data" / "result.txt").is_file()
    gone = data_path / ids["physics"] / ids["gone"]
    assert sorted(p.name for p in gone.iterdir() if not p.name.startswith(".")) == [
        "code", "data", "logs", "reports",
    ]  # fmt: skip
    locked = data_path / ids["physics"] / ids["d1"] / "code" / "main.py"
    assert not locked.stat().st_mode & 0o222, "a locked node's folder is read-only"
    assert not list(data_path.rglob(".*.new-*")), "nothing left aside"

    assert database_snapshot(original.dsn) == before_db
    assert tree_snapshot(original.data) == before_tree


async def test_an_imported_node_runs_unchanged(original, database_url, data_path):
    code, output = import_original(original, database_url, data_path)
    assert code == 0, output
    env = {"DATABASE_URL": database_url, "FUSIONPIPE_DATA_PATH": str(data_path)}
    code, output = fusionpipe("run", "shots", "--until", "combine", env=env)
    folder = data_path / original.ids["physics"] / original.ids["combine"]
    logs = "".join(p.read_text() for p in (folder / "logs").glob("*.log"))
    assert code == 0, output + logs
    assert "ok   combine" in output
    # Its uv.lock was installed as locked (six 1.16.0, not the newest) without the original's
    # fp-user-utils, whose place the compatibility module takes.
    assert (folder / "data" / "result.txt").read_text().splitlines() == [
        "01: shots data",
        "02: calibration",
        "six 1.16.0",
        "tags load shots,calibrate",
        original.ids["combine"],
    ]
    assert (folder / "code" / ".venv" / "bin" / "python").exists()


async def test_a_second_import_brings_only_what_is_new_and_reports_differences(
    original, database_url, data_path
):
    assert import_original(original, database_url, data_path)[0] == 0
    original.add_node("e11", "chem 11", "chemistry", {"chem": (10, 700)})
    original.add_edge("e10", "e11", "01")
    original.execute(
        "UPDATE nodes SET node_tag = 'renamed' WHERE node_id = %s", (original.ids["e9"],)
    )
    code, output = import_original(original, database_url, data_path)
    assert code == 0, output
    assert counts_line(output, "nodes") == [30, 1, 28, 1]
    assert counts_line(output, "edges") == [21, 1, 19, 1]
    assert counts_line(output, "memberships") == [30, 1, 29, 0]
    assert counts_line(output, "projects") == [2, 0, 2, 0]
    assert f"node {original.ids['e9']}: tag is 'chem 9' here, 'renamed' in the original" in output
    assert rows(database_url, "SELECT count(*) FROM nodes") == [(29,)]
    assert rows(database_url, "SELECT tag FROM nodes WHERE id = %s", (original.ids["e9"],)) == [
        ("chem 9",)
    ]
    new = data_path / original.ids["chemistry"] / original.ids["e11"]
    parents = json.loads((new / ".fusionpipe-node.json").read_text())["parents"]
    assert [p["id"] for p in parents] == [original.ids["e10"]]

    code, output = import_original(original, database_url, data_path)
    assert code == 0 and counts_line(output, "nodes") == [30, 0, 29, 1]


async def test_a_dry_run_lists_what_it_would_do_and_every_problem_and_changes_nothing(
    original, database_url, data_path
):
    before = database_snapshot(database_url)
    code, output = import_original(original, database_url, data_path, "--dry-run")
    assert code == 0, output
    ids = original.ids
    assert f"would import pipeline {ids['published']} 'published' (7 nodes, locked)" in output
    problems = [line for line in output.splitlines() if "problem:" in line]
    expected = [
        f"node {ids['gone']} ('gone'): its folder",  # missing folder
        f"edge {ids['ghost']} -> {ids['e6']} (slot '01'): the parent is in no pipeline",
        f"node {ids['pending']} has no status (NULL",
        f"node {ids['busy']} was running in the original",
        f"node {ids['ghost']} ('deleted') is in no pipeline",
    ]
    for text in expected:
        assert any(text in line for line in problems), (text, problems)
    assert counts_line(output, "nodes") == [29, 28, 0, 1]
    assert "dry run: nothing was changed" in output
    assert database_snapshot(database_url) == before
    assert list(data_path.iterdir()) == []


async def test_bad_input_is_a_clear_error_and_changes_nothing(
    original, database_url, data_path, pg_admin_dsn, tmp_path
):
    before = database_snapshot(database_url)
    wrong = psycopg.conninfo.make_conninfo(original.dsn, dbname="no_such_database_fp")
    unmade = tmp_path / "new-data"
    code, output = import_original(original, database_url, unmade, from_dsn=wrong)
    assert code != 0 and "cannot connect to the original database (--from)" in output
    assert not unmade.exists()
    assert "Traceback" not in output

    code, output = import_original(original, database_url, data_path, from_dsn=database_url)
    assert code == 2 and "is not a database of the original fusionpipe" in output

    elsewhere = tmp_path / "not-the-data"
    (elsewhere / "pr_unrelated").mkdir(parents=True)
    code, output = import_original(original, database_url, data_path, from_data=elsewhere)
    assert code == 2 and "none of the 28 node folders" in output, output

    code, output = import_original(original, database_url, data_path, "--in-place")
    assert code == 2 and "--in-place adopts the original node folders" in output

    # A folder in the way stops the import after copying some folders: none stays.
    ids = original.ids
    (data_path / ids["chemistry"] / ids["e10"]).mkdir(parents=True)
    code, output = import_original(original, database_url, data_path)
    assert code == 2 and f"node folder {data_path / ids['chemistry'] / ids['e10']}" in output
    left = sorted(str(p.relative_to(data_path)) for p in data_path.rglob("*"))
    assert left == [ids["chemistry"], f"{ids['chemistry']}/{ids['e10']}"], left

    assert database_snapshot(database_url) == before
    assert "Traceback" not in output


async def test_in_place_adopts_the_original_folders(original, database_url):
    ids = original.ids
    code, output = import_original(original, database_url, original.data, "--in-place")
    assert code == 0, output
    folder = original.data / ids["physics"] / ids["combine"]
    assert rows(database_url, "SELECT folder FROM nodes WHERE id = %s", (ids["combine"],)) == [
        (f"{ids['physics']}/{ids['combine']}",)
    ]
    assert json.loads((folder / ".fusionpipe-node.json").read_text())["node_id"] == ids["combine"]
    assert (folder / "code" / ".venv").is_dir(), "adopted where it is: nothing was copied"
    assert (folder / "logs").is_dir()
    assert (original.data / ids["physics"] / ids["gone"] / "code").is_dir()


def test_migrate_and_the_server_refuse_an_original_database_naming_the_import(original):
    before = database_snapshot(original.dsn)
    code, output = fusionpipe("admin", "migrate", "--database-url", original.dsn)
    assert code == 2, output
    assert output.count("\n") == 1 and "Traceback" not in output
    assert "original fusionpipe" in output and "fusionpipe admin import-original" in output
    for migrate in (True, False):
        with pytest.raises(Unavailable, match="import-original"):
            check_schema(original.dsn, migrate=migrate)
    code, output = fusionpipe("run", "shots", env={"DATABASE_URL": original.dsn})
    assert code == 2 and "import-original" in output and "Traceback" not in output
    assert database_snapshot(original.dsn) == before


def test_the_original_node_api_outside_a_node(tmp_path, monkeypatch):
    from fp_user_utils import user_api

    monkeypatch.delenv("FUSIONPIPE_NODE_FOLDER", raising=False)
    monkeypatch.chdir(tmp_path)
    assert user_api.get_current_node_id() is None
    assert user_api.get_parent_info_from_edge_id("01") is None
    with pytest.raises(ValueError, match="no node id"):
        user_api.get_current_node_folder_path()
    with pytest.raises(RuntimeError, match="no database"):
        user_api.connect_to_db().cursor().execute("SELECT 1")


async def test_the_original_matlab_helpers_answer_from_the_identity_file(
    original, database_url, data_path
):
    octave = shutil.which("octave")
    assert octave, "GNU Octave is required: apt-get install octave"
    assert import_original(original, database_url, data_path)[0] == 0
    ids = original.ids
    folder = data_path / ids["physics"] / ids["combine"]
    script = (
        "addpath(genpath(getenv('USER_UTILS_FOLDER_PATH'))); "
        "disp(get_current_node_id()); "
        "disp(get_parent_folder_path_from_edge_id('01')); "
        "p = get_info_parents(get_current_node_id()); disp(p(2).node_tag); "
        "e = get_node_parents_and_edge_ids(connect_to_db(), get_current_node_id()); "
        "disp(e(2).edge_id); disp(get_current_node_folder_path_data()); "
        "disp(isempty(get_parent_info_from_edge_id('09')));"
    )
    environment = {k: v for k, v in os.environ.items() if k != "FUSIONPIPE_NODE_FOLDER"}
    environment["USER_UTILS_FOLDER_PATH"] = str(fp_user_utils.matlab_path().parent)
    result = subprocess.run(
        [octave, "--no-gui", "--quiet", "--eval", script],
        cwd=folder / "code" / "examples",
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        ids["combine"],
        str(data_path / ids["physics"] / ids["a1"]),
        "calibrate",
        "02",
        str(folder / "data"),
        "1",
    ]


def test_a_change_to_the_target_while_folders_are_copied_stops_the_import(
    original, database_url, data_path, monkeypatch
):
    """Folders are copied before the transaction; if the target changed meanwhile (another
    import), the import stops and removes its copies."""
    from fusionpipe_server.importing import command, folders

    prepare = folders.FolderImport.prepare
    meanwhile = []

    def prepare_while_someone_imports(self, node):
        if not meanwhile:
            meanwhile.append(original.ids["chemistry"])
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO projects (id, tag, owner) VALUES (%s, 'chemistry', 'bob')",
                    (original.ids["chemistry"],),
                )
        prepare(self, node)

    monkeypatch.setattr(folders.FolderImport, "prepare", prepare_while_someone_imports)
    request = command.ImportRequest(
        from_dsn=original.dsn,
        from_data=original.data,
        database_url=database_url,
        data_path=data_path,
        default_owner="labadmin",
    )
    with pytest.raises(Conflict, match="changed while the folders were copied"):
        command.run_import(request, print)
    assert rows(database_url, "SELECT id FROM projects") == [(original.ids["chemistry"],)]
    assert rows(database_url, "SELECT count(*) FROM nodes") == [(0,)]
    assert list(data_path.rglob("*")) == []
