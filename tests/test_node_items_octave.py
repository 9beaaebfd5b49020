"""The ``fp_*`` helpers of mapped nodes under real GNU Octave: ``fp_item``, ``fp_item_id``, the
item's ``fp_data_dir``, ``fp_parameters`` with the item's values, ``fp_parents`` along a mapped
input, ``fp_parent_items`` and ``fp_metrics``."""

from __future__ import annotations

import json

import pytest
import test_node_api_octave as base

import fp_user_utils
from fusionpipe_server.folders import node_folders as folders
from fusionpipe_server.folders import parameters
from fusionpipe_server.models import NodeKind

octave = base.octave
octave_executable = base.octave_executable  # the fixture: GNU Octave, required


@pytest.fixture
def data(tmp_path):
    """``n_fit`` (MATLAB) is mapped along ``n_make`` (slot 01) and reads ``n_model`` (02)."""
    root = tmp_path / "data"
    for node_id in ("n_make", "n_model", "n_fit"):
        identity = {"node_id": node_id, "tag": node_id[2:], "kind": "matlab", "project_id": "pr_1"}
        folders.create_node_folder(
            root, f"pr_1/{node_id}", NodeKind.MATLAB, {**identity, "parents": []}
        )
    fit = root / "pr_1" / "n_fit"
    values = parameters.write_parameters(fit, 'map: {along: "01"}\nslope: 1.0\norder: 2\n')
    edges = [
        {"id": "n_make", "tag": "make", "slot": "01", "folder": "pr_1/n_make"},
        {"id": "n_model", "tag": "model", "slot": "02", "folder": "pr_1/n_model"},
    ]
    identity = json.loads((fit / ".fusionpipe-node.json").read_text())
    folders.write_identity(fit, {**identity, "parents": edges, "parameters": values})
    return root


def item_env(data, item_id="slope=0.5", values='{"slope": 0.5, "method": "fast"}'):
    fit = data / "pr_1" / "n_fit"
    (fit / "data" / item_id).mkdir(parents=True, exist_ok=True)
    return {
        "FUSIONPIPE_NODE_FOLDER": str(fit),
        "FUSIONPIPE_ITEM": values,
        "FUSIONPIPE_ITEM_ID": item_id,
        "FUSIONPIPE_DATA_DIR": str(fit / "data" / item_id),
        "FUSIONPIPE_ALONG": "01",
        "FUSIONPIPE_METRICS_FILE": str(fit / "logs" / "metrics.json"),
    }


def test_one_item_sees_its_values_folder_parameters_and_matching_input(
    octave_executable,
    data,
    tmp_path,
):
    script = (
        "s = fp_item(); disp(s.slope); disp(s.method); disp(fp_item_id()); disp(fp_data_dir()); "
        "p = fp_parameters(); disp(strjoin(sort(fieldnames(p))', ',')); disp(p.slope); "
        "disp(p.order); disp(fp_parent('01').data_dir); disp(fp_parent('model').data_dir);"
    )
    result = octave(octave_executable, script, tmp_path, item_env(data))
    assert result.returncode == 0, result.stderr
    fit = data / "pr_1" / "n_fit"
    assert result.stdout.splitlines() == [
        "0.5000",
        "fast",
        "slope=0.5",
        str(fit / "data" / "slope=0.5"),
        "method,order,slope",  # map: left out, the item's values in
        "0.5000",
        "2",
        str(data / "pr_1" / "n_make" / "data" / "slope=0.5"),
        str(data / "pr_1" / "n_model" / "data"),
    ]


def test_without_an_item_the_node_is_as_before(octave_executable, data, tmp_path):
    fit = data / "pr_1" / "n_fit"
    script = (
        "s = fp_item(); disp(isstruct(s) && isempty(fieldnames(s))); disp(isempty(fp_item_id())); "
        "disp(fp_data_dir()); p = fp_parameters(); disp(isfield(p, 'map')); disp(p.slope); "
        "disp(fp_parent(1).data_dir);"
    )
    result = octave(octave_executable, script, tmp_path, {"FUSIONPIPE_NODE_FOLDER": str(fit)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1",
        "1",
        str(fit / "data"),
        "0",
        "1",
        str(data / "pr_1" / "n_make" / "data"),
    ]


def test_metrics_merge_into_the_file_the_run_names(octave_executable, data, tmp_path):
    env = item_env(data)
    script = (
        "fp_metrics('chi2', 0.31, 'converged', true); "
        "r = fp_metrics('chi2', 1/3, 'method', \"lsq\", 'steps', int32(12)); "
        "disp(strjoin(fieldnames(r)', ','));"
    )
    result = octave(octave_executable, script, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "chi2,converged,method,steps"
    target = data / "pr_1" / "n_fit" / "logs" / "metrics.json"
    assert json.loads(target.read_text()) == {
        "chi2": 1 / 3,
        "converged": True,
        "method": "lsq",
        "steps": 12,
    }
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.json"]


def test_metrics_written_by_python_are_kept(octave_executable, data, tmp_path):
    env = item_env(data)
    target = data / "pr_1" / "n_fit" / "logs" / "metrics.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text('{"from_python": 2.5}')
    result = octave(octave_executable, "fp_metrics('chi2', 4);", tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text()) == {"from_python": 2.5, "chi2": 4}


def test_metrics_refuse_what_is_not_a_scalar(octave_executable, data, tmp_path):
    calls = [
        "fp_metrics('chi2', [1 2])",
        "fp_metrics('chi2', NaN)",
        "fp_metrics('chi2', Inf)",
        "fp_metrics('chi2', 1 + 2i)",
        "fp_metrics('chi2', {1})",
        "fp_metrics('chi2', struct('a', 1))",
        "fp_metrics('chi2')",
        "fp_metrics('not a name', 1)",
        "fp_metrics(3, 1)",
    ]
    script = " ".join(
        f"try, {call}; disp('no error'), catch err, disp(err.identifier), disp(err.message), end;"
        for call in calls
    )
    result = octave(octave_executable, script, tmp_path, item_env(data))
    lines = result.stdout.splitlines()
    assert lines[0::2] == ["fusionpipe:badMetric"] * len(calls), result.stdout + result.stderr
    assert (
        lines[1]
        == "metric 'chi2' must be a real number, a logical or text (one value), not a [1 2] double"
    )
    assert lines[3] == "metric 'chi2' must be a finite number, not NaN"
    assert "fp_metrics takes name/value pairs: 1 arguments given" in lines
    assert not (data / "pr_1" / "n_fit" / "logs" / "metrics.json").exists()


def test_outside_a_run_metrics_go_to_the_reports_folder(octave_executable, data):
    fit = data / "pr_1" / "n_fit"
    result = octave(octave_executable, "fp_metrics('chi2', 1.5);", fit / "code")
    assert result.returncode == 0, result.stderr
    assert json.loads((fit / "reports" / "metrics.json").read_text()) == {"chi2": 1.5}


def test_a_gathering_node_lists_the_items_of_its_input(octave_executable, data, tmp_path):
    make = data / "pr_1" / "n_make"
    listing = {
        "items": [
            {"id": "slope=0.5", "values": {"slope": 0.5}, "status": "completed"},
            {"id": "slope=2", "values": {"slope": 2}, "status": "failed"},
        ]
    }
    (make / "items.json").write_text(json.dumps(listing))
    script = (
        "items = fp_parent_items('make'); disp(numel(items)); disp(strjoin({items.id}, ',')); "
        "disp(strjoin({items.status}, ',')); disp(items(2).values.slope); disp(items(1).data_dir);"
        "try, fp_parent_items(2), catch err, disp(err.identifier), disp(err.message), end;"
    )
    fit = data / "pr_1" / "n_fit"
    result = octave(octave_executable, script, tmp_path, {"FUSIONPIPE_NODE_FOLDER": str(fit)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "2",
        "slope=0.5,slope=2",
        "completed,failed",
        "2",
        str(make / "data" / "slope=0.5"),
    ]
    assert lines[5] == "fusionpipe:noItems"
    assert lines[6].startswith("input 02 ('model') has no items: it is not a mapped node")


def test_the_original_helpers_write_an_item_into_its_own_folder(octave_executable, data, tmp_path):
    helpers = str(fp_user_utils.matlab_path().parent).replace("'", "''")
    script = f"addpath(genpath('{helpers}')); disp(get_current_node_folder_path_data());"
    result = octave(octave_executable, script, tmp_path, item_env(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(data / "pr_1" / "n_fit" / "data" / "slope=0.5")
