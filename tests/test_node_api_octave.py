"""The ``fp_*`` MATLAB helpers under real GNU Octave (CI installs it: missing Octave fails)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import fusionpipe
from fusionpipe_server.folders import node_folders as folders
from fusionpipe_server.folders import parameters
from fusionpipe_server.models import NodeKind


@pytest.fixture(scope="module")
def octave_executable():
    executable = shutil.which("octave")
    assert executable, (
        "GNU Octave is required: apt-get install octave (scripts/install-system-deps.sh)"
    )
    return executable


@pytest.fixture
def data(tmp_path):
    """``n_child`` reads ``n_raw`` (slot 01) and ``n_clean`` (slot 02)."""
    root = tmp_path / "data"
    for node_id in ("n_raw", "n_clean", "n_child", "n_new"):
        identity = {"node_id": node_id, "tag": node_id[2:], "kind": "matlab", "project_id": "pr_1"}
        folders.create_node_folder(
            root, f"pr_1/{node_id}", NodeKind.MATLAB, {**identity, "parents": []}
        )
    child = root / "pr_1" / "n_child"
    values = parameters.write_parameters(child, "run_mode: local\nalpha: 0.5\nlearning-rate: 3\n")
    edges = [
        {"id": "n_clean", "tag": "clean", "slot": "02", "folder": "pr_1/n_clean"},
        {"id": "n_raw", "tag": "raw", "slot": "01", "folder": "pr_1/n_raw"},
    ]
    identity = json.loads((child / ".fusionpipe-node.json").read_text())
    folders.write_identity(child, {**identity, "parents": edges, "parameters": values})
    return root


def octave(executable, script, cwd, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "FUSIONPIPE_NODE_FOLDER"}
    environment.update(env or {})
    helpers = str(fusionpipe.matlab_path()).replace("'", "''")
    return subprocess.run(
        [
            executable,
            "--no-gui",
            "--quiet",
            "--no-init-file",
            "--eval",
            f"addpath('{helpers}'); {script}",
        ],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


REPORT = (
    "disp(fp_node_id()); disp(fp_folder()); disp(fp_code_dir()); disp(fp_data_dir()); "
    "disp(fp_reports_dir()); p = fp_parameters(); disp(p.alpha); disp(p.learning_rate); "
    "disp(p.run_mode); ps = fp_parents(); disp(strjoin({ps.slot}, ',')); "
    "disp(strjoin({ps.tag}, ',')); disp(strjoin({ps.id}, ',')); disp(ps(2).folder); "
    "disp(fp_parent(2).id); disp(fp_parent('01').id); disp(fp_parent('raw').data_dir);"
)


def expected(data):
    child = data / "pr_1" / "n_child"
    return [
        "n_child",
        str(child),
        str(child / "code"),
        str(child / "data"),
        str(child / "reports"),
        "0.5000",
        "3",
        "local",
        "01,02",
        "raw,clean",
        "n_raw,n_clean",
        str(data / "pr_1" / "n_clean"),
        "n_clean",
        "n_raw",
        str(data / "pr_1" / "n_raw" / "data"),
    ]


def test_helpers_from_the_environment_variable(octave_executable, data, tmp_path):
    child = data / "pr_1" / "n_child"
    result = octave(octave_executable, REPORT, tmp_path, {"FUSIONPIPE_NODE_FOLDER": str(child)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected(data)


def test_helpers_from_a_sub_folder_of_the_node(octave_executable, data):
    deep = data / "pr_1" / "n_child" / "code" / "analysis"
    deep.mkdir()
    result = octave(octave_executable, REPORT, deep)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected(data)


def test_a_node_without_inputs(octave_executable, data):
    script = (
        "ps = fp_parents(); disp(size(ps)); p = fp_parameters(); disp(p.run_mode); fp_parent(1)"
    )
    result = octave(octave_executable, script, data / "pr_1" / "n_raw" / "code")
    assert result.stdout.split() == ["0", "0", "local"], result.stderr
    assert "this node has no input '01'. Inputs: none" in result.stderr


def test_missing_and_ambiguous_inputs_say_what_exists(octave_executable, data):
    child = data / "pr_1" / "n_child"
    env = {"FUSIONPIPE_NODE_FOLDER": str(child)}
    missing = octave(octave_executable, "fp_parent('smooth')", child, env)
    assert missing.returncode != 0
    assert "no input 'smooth'. Inputs: 01 ('raw'), 02 ('clean')" in missing.stderr
    identity = json.loads((child / ".fusionpipe-node.json").read_text())
    for entry in identity["parents"]:
        entry["tag"] = "raw"
    folders.write_identity(child, identity)
    script = (
        "try, fp_parent('raw'), catch err, disp(err.identifier), disp(err.message), end; "
        "disp(fp_parent('02').id)"
    )
    ambiguous = octave(octave_executable, script, child, env)
    assert ambiguous.stdout.splitlines() == [
        "fusionpipe:ambiguousTag",
        "2 inputs are tagged 'raw'; ask by slot instead. Inputs: 01 ('raw'), 02 ('raw')",
        "n_clean",
    ], ambiguous.stderr


def test_outside_a_node_every_helper_fails_saying_why(octave_executable, tmp_path):
    names = [
        "fp_node_id",
        "fp_folder",
        "fp_code_dir",
        "fp_data_dir",
        "fp_reports_dir",
        "fp_parameters",
        "fp_parents",
        "fp_parent(1)",
    ]
    script = " ".join(
        f"try, {name}; disp('no error'), catch err, disp(err.identifier), end;" for name in names
    )
    result = octave(octave_executable, script, tmp_path)
    assert result.stdout.splitlines() == ["fusionpipe:notInNode"] * len(names), result.stderr
    message = octave(octave_executable, "fp_data_dir()", tmp_path)
    assert message.returncode != 0
    assert "not inside a fusionpipe node" in message.stderr
    assert "FUSIONPIPE_NODE_FOLDER" in message.stderr


def test_the_internal_reader_stays_private(octave_executable, tmp_path):
    result = octave(octave_executable, "disp(exist('fp_identity'))", tmp_path)
    assert result.stdout.strip() == "0", result.stderr


def test_the_matlab_template_runs_as_a_node(octave_executable, data):
    node = data / "pr_1" / "n_new"
    identity = json.loads((node / ".fusionpipe-node.json").read_text())
    identity["parents"] = [{"id": "n_raw", "tag": "raw", "slot": "01", "folder": "pr_1/n_raw"}]
    folders.write_identity(node, identity)
    result = octave(octave_executable, "run('main.m');", node / "code")
    assert result.returncode == 0, result.stderr
    assert f"input 01 (raw): {data / 'pr_1' / 'n_raw' / 'data'}" in result.stdout
    assert (node / "data" / "result.txt").read_text() == "done\n"
