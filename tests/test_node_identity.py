"""A node folder's parameters file and identity file: written and read back, refusals that
name the line and change nothing, and an identity rewritten only when it changes."""

from __future__ import annotations

import json

import pytest
from test_node_folders import make, mode, read_identity

from fusionpipe_server.errors import Invalid
from fusionpipe_server.folders import identity, parameters
from fusionpipe_server.folders import node_folders as folders


def test_parameters_round_trip_through_the_identity_snapshot(tmp_path):
    folder = make(tmp_path)
    text = "run_mode: ray\nscale: 2.5\nchannels: [ne, te]\nstart: 2024-01-31\nlimit: .inf\n"
    values = parameters.write_parameters(folder, text)
    assert parameters.read_parameters_text(folder) == text
    assert parameters.read_parameters(folder) == values
    folders.write_identity(folder, {**read_identity(folder), "parameters": values})
    assert read_identity(folder)["parameters"] == {
        "run_mode": "ray",
        "scale": 2.5,
        "channels": ["ne", "te"],
        "start": "2024-01-31",
        "limit": None,
    }
    raw = (folder / ".fusionpipe-node.json").read_text()
    assert "Infinity" not in raw and "NaN" not in raw, "strict JSON, for MATLAB's jsondecode"


def test_saving_parameters_keeps_the_file_mode(tmp_path):
    folder = make(tmp_path)
    path = folder / "code" / "node_parameters.yaml"
    path.chmod(0o664)
    parameters.write_parameters(folder, "a: 1\n")
    assert mode(path) == 0o664
    assert sorted(p.name for p in path.parent.iterdir()) == ["main.py", "node_parameters.yaml"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: c: d\n", "line 2, column 5: mapping values are not allowed here"),
        ("a: 1\nb: [1, 2\n", "line 3, column 1"),
        ("a: 1\n\tb: 2\n", "line 2, column 1"),
        ("- 1\n- 2\n", "must be a mapping of names to values .*not a list"),
        ("just text\n", "not a str"),
        ("run_mode: cloud\n", "run_mode must be one of local, ray, slurm, not 'cloud'"),
        ("1: one\n", "parameter names must be text, not 1"),
    ],
)
def test_bad_parameters_are_refused_with_the_line(text, message):
    with pytest.raises(Invalid, match=message):
        parameters.parse_parameters(text)


def test_a_refused_parameters_write_changes_nothing(tmp_path):
    folder = make(tmp_path)
    before = parameters.read_parameters_text(folder)
    with pytest.raises(Invalid, match="line 1"):
        parameters.write_parameters(folder, "x: [")
    assert parameters.read_parameters_text(folder) == before
    assert parameters.parse_parameters("") == {} == parameters.parse_parameters("# only\n")
    assert parameters.parse_parameters_or_none("x: [") is None
    (folder / "code" / "node_parameters.yaml").write_text("x: [")
    assert parameters.read_parameters_or_empty(folder) == {}


def test_a_text_parsed_again_gives_its_own_values_and_the_same_refusal():
    text = "lr: 0.1\nlayers: [1, 2]\n"
    first = parameters.parse_parameters(text)
    first["layers"].append(3)
    assert parameters.parse_parameters(text) == {"lr": 0.1, "layers": [1, 2]}
    for _ in range(2):
        with pytest.raises(Invalid, match="line 2, column 5"):
            parameters.parse_parameters("a: 1\nb: c: d\n")


def test_an_unchanged_identity_is_not_rewritten(tmp_path):
    folder = make(tmp_path)
    identity.write_identity(folder, {"node_id": "n_1", "parents": []})
    path = folder / identity.IDENTITY_FILE
    inode = path.stat().st_ino
    identity.write_identity(folder, {"node_id": "n_1", "parents": []})
    assert path.stat().st_ino == inode, "same content: the file is left as it is"
    identity.write_identity(folder, {"node_id": "n_1", "parents": ["n_0"]})
    assert path.stat().st_ino != inode
    assert json.loads(path.read_text())["parents"] == ["n_0"]


def test_identity_bytes_put_the_format_first():
    content = json.loads(identity.identity_bytes({"node_id": "n_1", "parents": []}))
    assert list(content) == ["format", "node_id", "parents"]
