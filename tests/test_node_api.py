"""``import fusionpipe`` in real node processes, on folders made by the server's own functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import fusionpipe
from fusionpipe_server.folders import node_folders as folders
from fusionpipe_server.folders import parameters
from fusionpipe_server.models import NodeKind

REPORT = """
import json, fusionpipe
print(json.dumps({
    "id": fusionpipe.node_id(),
    "folder": str(fusionpipe.folder()),
    "code": str(fusionpipe.code_dir()),
    "data": str(fusionpipe.data_dir()),
    "reports": str(fusionpipe.reports_dir()),
    "parameters": fusionpipe.parameters(),
    "parents": [
        [p.slot, p.id, p.tag, str(p.folder), str(p.data_dir)] for p in fusionpipe.parents()
    ],
    "lookups": [fusionpipe.parent(1).id, fusionpipe.parent("02").id, fusionpipe.parent("clean").id],
}))
"""


def make_node(data, node_id, parents=(), kind=NodeKind.PYTHON):
    """A node folder made by the server, with its edges written into its identity file."""
    identity = {"node_id": node_id, "tag": node_id[2:], "kind": kind.value, "project_id": "pr_1"}
    folder = folders.create_node_folder(data, f"pr_1/{node_id}", kind, {**identity, "parents": []})
    entries = [
        {"id": p, "tag": p[2:], "slot": f"{i:02d}", "folder": f"pr_1/{p}"}
        for i, p in enumerate(parents, 1)
    ]
    # As the service does: edges and a snapshot of the saved parameters.
    values = parameters.read_parameters(folder)
    folders.write_identity(folder, {**identity, "parents": entries, "parameters": values})
    return folder


@pytest.fixture
def data(tmp_path):
    """``n_child`` reads ``n_raw`` (slot 01) and ``n_clean`` (slot 02)."""
    root = tmp_path / "data"
    make_node(root, "n_raw")
    make_node(root, "n_clean")
    child = root / "pr_1" / "n_child"
    make_node(root, "n_child", ["n_raw", "n_clean"])
    parameters.write_parameters(child, "run_mode: local\nalpha: 0.5\n")
    return root


def run(argv, cwd, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "FUSIONPIPE_NODE_FOLDER"}
    environment.update(env or {})
    return subprocess.run(
        argv, cwd=cwd, env=environment, capture_output=True, text=True, check=False, timeout=60
    )


def expected(data):
    child = data / "pr_1" / "n_child"
    return {
        "id": "n_child",
        "folder": str(child),
        "code": str(child / "code"),
        "data": str(child / "data"),
        "reports": str(child / "reports"),
        "parameters": {"run_mode": "local", "alpha": 0.5},
        "parents": [
            ["01", "n_raw", "raw", str(data / "pr_1/n_raw"), str(data / "pr_1/n_raw/data")],
            ["02", "n_clean", "clean", str(data / "pr_1/n_clean"), str(data / "pr_1/n_clean/data")],
        ],
        "lookups": ["n_raw", "n_clean", "n_clean"],
    }


def test_main_py_finds_its_node_from_the_environment_variable(data, tmp_path):
    child = data / "pr_1" / "n_child"
    (child / "code" / "main.py").write_text(REPORT)
    # Started from outside the node, as a Ray worker or the runner may be.
    result = run(
        [sys.executable, str(child / "code" / "main.py")],
        tmp_path,
        {"FUSIONPIPE_NODE_FOLDER": str(child)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected(data)


def test_main_py_finds_its_node_from_the_current_folder(data):
    child = data / "pr_1" / "n_child"
    (child / "code" / "main.py").write_text(REPORT)
    result = run([sys.executable, "main.py"], child / "code")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected(data)


def test_a_script_in_a_sub_folder_finds_its_node(data):
    deep = data / "pr_1" / "n_child" / "code" / "analysis" / "plots"
    deep.mkdir(parents=True)
    (deep / "plot.py").write_text(REPORT)
    result = run([sys.executable, "plot.py"], deep)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected(data)


def test_a_relative_environment_variable_is_made_absolute(data):
    result = run(
        [sys.executable, "-c", "import fusionpipe; print(fusionpipe.data_dir())"],
        data,
        {"FUSIONPIPE_NODE_FOLDER": "pr_1/n_raw"},
    )
    assert result.stdout.strip() == str(data / "pr_1" / "n_raw" / "data"), result.stderr


def test_outside_a_node_the_process_fails_saying_why(tmp_path):
    (tmp_path / "main.py").write_text("import fusionpipe\nfusionpipe.data_dir()\n")
    result = run([sys.executable, "main.py"], tmp_path)
    assert result.returncode == 1
    assert "fusionpipe.NotInNodeError: not inside a fusionpipe node" in result.stderr
    assert "FUSIONPIPE_NODE_FOLDER" in result.stderr and ".fusionpipe-node.json" in result.stderr


def test_outside_a_node_every_function_raises_the_same_error(tmp_path, monkeypatch):
    monkeypatch.delenv("FUSIONPIPE_NODE_FOLDER", raising=False)
    monkeypatch.chdir(tmp_path)
    calls = [
        fusionpipe.node_id,
        fusionpipe.folder,
        fusionpipe.code_dir,
        fusionpipe.data_dir,
        fusionpipe.reports_dir,
        fusionpipe.parameters,
        fusionpipe.parents,
        lambda: fusionpipe.parent(1),
    ]
    for call in calls:
        with pytest.raises(fusionpipe.NotInNodeError, match="not inside a fusionpipe node"):
            call()
    assert issubclass(fusionpipe.NotInNodeError, RuntimeError)
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(tmp_path))
    with pytest.raises(fusionpipe.NotInNodeError, match=r"holds no \.fusionpipe-node\.json"):
        fusionpipe.node_id()


@pytest.fixture
def in_child(data, monkeypatch):
    child = data / "pr_1" / "n_child"
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(child))
    return child


def test_parent_by_slot_int_and_tag(in_child):
    assert fusionpipe.parent("01").tag == "raw"
    assert fusionpipe.parent(2).tag == "clean"
    assert fusionpipe.parent("raw").slot == "01"
    assert fusionpipe.parent("raw").data_dir == in_child.parent / "n_raw" / "data"


def test_missing_inputs_say_what_exists(in_child):
    with pytest.raises(LookupError, match=r"no input '03'. Inputs: 01 \('raw'\), 02 \('clean'\)"):
        fusionpipe.parent(3)
    with pytest.raises(LookupError, match="no input 'smooth'"):
        fusionpipe.parent("smooth")
    with pytest.raises(TypeError):
        fusionpipe.parent(1.0)  # type: ignore[arg-type]


def test_an_ambiguous_tag_asks_for_a_slot_and_a_slot_wins_over_a_tag(in_child):
    identity = json.loads((in_child / ".fusionpipe-node.json").read_text())
    identity["parents"][1]["tag"] = "raw"
    identity["parents"].append({"id": "n_x", "tag": "01", "slot": "03", "folder": "pr_1/n_x"})
    folders.write_identity(in_child, identity)
    with pytest.raises(LookupError, match="2 inputs are tagged 'raw'; ask by slot instead"):
        fusionpipe.parent("raw")
    assert fusionpipe.parent("01").id == "n_raw"


def test_edits_show_up_without_restarting(in_child):
    assert [p.id for p in fusionpipe.parents()] == ["n_raw", "n_clean"]
    identity = json.loads((in_child / ".fusionpipe-node.json").read_text())
    identity["parents"] = identity["parents"][1:]
    folders.write_identity(in_child, identity)
    assert [p.id for p in fusionpipe.parents()] == ["n_clean"]
    # The YAML file is read fresh (PyYAML is importable here), even before the snapshot is.
    (in_child / "code" / "node_parameters.yaml").write_text("alpha: 0.7\n")
    assert fusionpipe.parameters() == {"alpha": 0.7}


def test_parents_sort_like_numbers(in_child):
    identity = json.loads((in_child / ".fusionpipe-node.json").read_text())
    identity["parents"] = [
        {"id": f"n_{s}", "tag": s, "slot": s, "folder": f"pr_1/n_{s}"} for s in ("100", "02", "10")
    ]
    folders.write_identity(in_child, identity)
    assert [p.slot for p in fusionpipe.parents()] == ["02", "10", "100"]
    assert fusionpipe.parent(100).id == "n_100"


def test_invalid_yaml_names_the_line(in_child):
    (in_child / "code" / "node_parameters.yaml").write_text("alpha: 1\nbeta: [\n")
    with pytest.raises(ValueError, match="line 3"):
        fusionpipe.parameters()


def test_without_pyyaml_parameters_come_from_the_identity_snapshot(data, tmp_path):
    child = data / "pr_1" / "n_child"
    source = """
        import sys
        sys.modules["yaml"] = None  # as in a node environment without PyYAML
        import fusionpipe
        print(fusionpipe.parameters())
    """
    result = run(
        [sys.executable, "-c", textwrap.dedent(source)],
        tmp_path,
        {"FUSIONPIPE_NODE_FOLDER": str(child)},
    )
    assert result.stdout.strip() == "{'run_mode': 'local'}", result.stderr
    # The snapshot is what the server last recorded, not the file edited since.
    assert "alpha" in (child / "code" / "node_parameters.yaml").read_text()


def test_the_package_imports_nothing_outside_the_standard_library(tmp_path):
    source = """
        import sys
        before = set(sys.modules)
        import fusionpipe
        print(sorted(m.split(".")[0] for m in set(sys.modules) - before))
    """
    result = run([sys.executable, "-c", textwrap.dedent(source)], tmp_path)
    imported = set(json.loads(result.stdout.replace("'", '"')))
    assert imported - set(sys.stdlib_module_names) == {"fusionpipe"}, result.stderr


def test_every_public_name_is_documented():
    for name in fusionpipe.__all__:
        assert getattr(fusionpipe, name).__doc__, name
    assert (fusionpipe.matlab_path() / "fp_parent.m").is_file()


def test_the_python_template_runs_as_a_node(data):
    (data / "pr_1" / "n_raw" / "data" / "raw.csv").write_text("1,2\n")
    node = make_node(data, "n_new", ["n_raw", "n_child"])
    result = run([sys.executable, "main.py"], node / "code")
    assert result.returncode == 0, result.stderr
    assert "input 01 (raw): ['raw.csv']" in result.stdout
    assert (node / "data" / "result.txt").read_text() == "scale was 1.0\n"


def test_the_shell_template_runs_as_a_node(data):
    node = make_node(data, "n_sh", kind=NodeKind.SHELL)
    result = run(["bash", "main.sh"], node / "code")
    assert result.returncode == 0, result.stderr
    assert "node n_sh running" in result.stdout
    assert (node / "data" / "result.txt").read_text() == "done\n"


def test_the_notebook_template_runs_on_a_kernel(data):
    node = make_node(data, "n_nb", ["n_raw"], kind=NodeKind.NOTEBOOK)
    executed = node / "reports" / "main-r_1.ipynb"
    result = run(
        [sys.executable, "-m", "fusionpipe_server.runners.notebook", "main.ipynb", str(executed)],
        node / "code",
        {"FUSIONPIPE_NODE_FOLDER": str(node)},
    )
    assert result.returncode == 0, result.stderr
    assert (node / "data" / "result.txt").read_text() == "done\n"
    assert "running with {'run_mode': 'local'}" in executed.read_text()
