"""The node-code API (``import fusionpipe`` and the ``fp_*`` Octave helpers) in real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import fusionpipe


@pytest.fixture
def nodes(tmp_path):
    """Three node folders: ``child`` reads from ``raw`` (slot 01) and ``clean`` (slot 02)."""
    data = tmp_path / "data"

    def node(node_id, tag, parents=(), params=None):
        folder = data / "pr_1" / node_id
        for sub in ("code", "data", "reports"):
            (folder / sub).mkdir(parents=True)
        identity = {
            "format": 1,
            "node_id": node_id,
            "tag": tag,
            "kind": "python",
            "project_id": "pr_1",
            "parents": list(parents),
            "parameters": params or {},
        }
        (folder / ".fusionpipe-node.json").write_text(json.dumps(identity))
        return folder

    node("n_raw", "raw")
    node("n_clean", "clean")
    child = node(
        "n_child",
        "child",
        [
            {"id": "n_clean", "tag": "clean", "slot": "02", "folder": "pr_1/n_clean"},
            {"id": "n_raw", "tag": "raw", "slot": "01", "folder": "pr_1/n_raw"},
        ],
        {"alpha": 0.5},
    )
    (child / "code" / "node_parameters.yaml").write_text("alpha: 0.5\nrun_mode: local\n")
    return data


def run_python(source, cwd, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "FUSIONPIPE_NODE_FOLDER"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


SCRIPT = """
    import fusionpipe
    print(fusionpipe.node_id())
    print(fusionpipe.data_dir())
    print(fusionpipe.parameters()["alpha"])
    print([(p.slot, p.tag, p.data_dir.name, p.folder.name) for p in fusionpipe.parents()])
    print(fusionpipe.parent(1).id, fusionpipe.parent("02").id, fusionpipe.parent("clean").id)
"""


def test_from_the_environment_variable(nodes, tmp_path):
    child = nodes / "pr_1" / "n_child"
    result = run_python(SCRIPT, tmp_path, {"FUSIONPIPE_NODE_FOLDER": str(child)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "n_child",
        str(child / "data"),
        "0.5",
        "[('01', 'raw', 'data', 'n_raw'), ('02', 'clean', 'data', 'n_clean')]",
        "n_raw n_clean n_clean",
    ]


def test_from_a_sub_folder_of_the_node(nodes):
    deep = nodes / "pr_1" / "n_child" / "reports" / "notebooks"
    deep.mkdir()
    result = run_python("import fusionpipe; print(fusionpipe.node_id())", deep)
    assert (result.returncode, result.stdout.strip()) == (0, "n_child")


def test_missing_inputs_and_ambiguous_tags_say_what_exists(nodes, monkeypatch):
    child = nodes / "pr_1" / "n_child"
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(child))
    with pytest.raises(LookupError, match="01 \\('raw'\\)"):
        fusionpipe.parent("03")
    identity = json.loads((child / ".fusionpipe-node.json").read_text())
    identity["parents"][0]["tag"] = "raw"
    (child / ".fusionpipe-node.json").write_text(json.dumps(identity))
    with pytest.raises(LookupError, match="2 inputs are tagged 'raw'"):
        fusionpipe.parent("raw")


def test_outside_a_node_every_call_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("FUSIONPIPE_NODE_FOLDER", raising=False)
    monkeypatch.chdir(tmp_path)
    for call in (fusionpipe.node_id, fusionpipe.folder, fusionpipe.data_dir, fusionpipe.parents):
        with pytest.raises(fusionpipe.NotInNodeError, match="not inside a fusionpipe node"):
            call()
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(tmp_path))
    with pytest.raises(fusionpipe.NotInNodeError, match="holds no"):
        fusionpipe.node_id()


def test_parameters_without_pyyaml_come_from_the_identity_snapshot(nodes, tmp_path):
    child = nodes / "pr_1" / "n_child"
    source = """
        import sys
        sys.modules["yaml"] = None  # as in an environment without PyYAML
        import fusionpipe
        print(fusionpipe.parameters())
    """
    result = run_python(source, tmp_path, {"FUSIONPIPE_NODE_FOLDER": str(child)})
    assert result.stdout.strip() == "{'alpha': 0.5}", result.stderr


def octave(script, cwd, env=None):
    executable = shutil.which("octave")
    assert executable, "GNU Octave is needed (make test installs it)"
    environment = {k: v for k, v in os.environ.items() if k != "FUSIONPIPE_NODE_FOLDER"}
    environment.update(env or {})
    helpers = fusionpipe.matlab_path()
    return subprocess.run(
        [executable, "--no-gui", "--quiet", "--eval", f"addpath('{helpers}'); {script}"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_octave_helpers(nodes, tmp_path):
    child = nodes / "pr_1" / "n_child"
    script = (
        "disp(fp_node_id()); disp(fp_data_dir()); p = fp_parameters(); disp(p.alpha); "
        "ps = fp_parents(); disp(strjoin({ps.slot}, ',')); disp(strjoin({ps.tag}, ',')); "
        "disp(fp_parent(2).id); disp(fp_parent('raw').data_dir);"
    )
    result = octave(script, tmp_path, {"FUSIONPIPE_NODE_FOLDER": str(child)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "n_child",
        str(child / "data"),
        "0.5000",
        "01,02",
        "raw,clean",
        "n_clean",
        str(nodes / "pr_1" / "n_raw" / "data"),
    ]


def test_octave_helpers_find_the_node_from_the_current_folder_and_fail_outside(nodes, tmp_path):
    inside = octave("disp(fp_node_id());", nodes / "pr_1" / "n_raw" / "code")
    assert inside.stdout.strip() == "n_raw", inside.stderr
    outside = octave("disp(fp_node_id());", tmp_path)
    assert outside.returncode != 0 and "not inside a fusionpipe node" in outside.stderr
