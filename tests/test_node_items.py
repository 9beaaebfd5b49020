"""``import fusionpipe`` in the items of mapped nodes: the variables fusionpipe sets for one item
(``FUSIONPIPE_ITEM``, ``_ITEM_ID``, ``_DATA_DIR``, ``_ALONG``, ``_METRICS_FILE``), the parent's
``items.json`` a gathering child reads, and the metrics a run records."""

from __future__ import annotations

import json
import os
import pickle
import stat
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from test_node_api import make_node, run

import fusionpipe
from fusionpipe_server.folders import parameters

ITEM_VARIABLES = (
    "FUSIONPIPE_NODE_FOLDER",
    "FUSIONPIPE_ITEM",
    "FUSIONPIPE_ITEM_ID",
    "FUSIONPIPE_DATA_DIR",
    "FUSIONPIPE_ALONG",
    "FUSIONPIPE_METRICS_FILE",
)


@pytest.fixture(autouse=True)
def no_item(monkeypatch):
    """Whatever ran pytest, no item is running unless a test says so."""
    for name in ITEM_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def data(tmp_path):
    """``n_fit`` is mapped along ``n_make`` (slot 01) and also reads ``n_model`` (slot 02);
    ``n_plot`` gathers ``n_fit``."""
    root = tmp_path / "data"
    make_node(root, "n_make")
    make_node(root, "n_model")
    make_node(root, "n_fit", ["n_make", "n_model"])
    make_node(root, "n_plot", ["n_fit"])
    parameters.write_parameters(root / "pr_1" / "n_make", "map:\n  slope: [0.5, 2.0]\n")
    parameters.write_parameters(
        root / "pr_1" / "n_fit", 'map: {along: "01"}\nslope: 1.0\norder: 1\n'
    )
    return root


def item_environment(node: Path, item_id: str, values: dict, along: str | None = None) -> dict:
    """The variables the engine sets for one item of ``node`` (the item's folder made first)."""
    folder = node / "data" / item_id
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        "FUSIONPIPE_NODE_FOLDER": str(node),
        "FUSIONPIPE_ITEM": json.dumps(values),
        "FUSIONPIPE_ITEM_ID": item_id,
        "FUSIONPIPE_DATA_DIR": str(folder),
        "FUSIONPIPE_METRICS_FILE": str(node / "logs" / f"metrics-{item_id}.json"),
    }
    if along:
        env["FUSIONPIPE_ALONG"] = along
    return env


def write_items(node: Path, items: list[tuple[str, dict, str]]) -> None:
    listing = {"items": [{"id": i, "values": v, "status": s} for i, v, s in items]}
    (node / "items.json").write_text(json.dumps(listing))


def test_one_item_of_a_mapped_node_sees_its_values_folder_and_matching_input(data, tmp_path):
    fit = data / "pr_1" / "n_fit"
    (fit / "code" / "main.py").write_text(
        textwrap.dedent(
            """
            import json, fusionpipe
            (fusionpipe.data_dir() / "fit.txt").write_text("fitted")
            print(json.dumps({
                "item": fusionpipe.item(),
                "id": fusionpipe.item_id(),
                "data": str(fusionpipe.data_dir()),
                "parameters": fusionpipe.parameters(),
                "along": str(fusionpipe.parent("01").data_dir),
                "along_called": str(fusionpipe.parent("01").data_dir()),
                "other": str(fusionpipe.parent("02").data_dir()),
            }))
            """
        )
    )
    env = item_environment(fit, "slope=0.5", {"slope": 0.5}, along="01")
    result = run([sys.executable, str(fit / "code" / "main.py")], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "item": {"slope": 0.5},
        "id": "slope=0.5",
        "data": str(fit / "data" / "slope=0.5"),
        # `map` says which items exist, not what this one is: left out; the item's value wins.
        "parameters": {"slope": 0.5, "order": 1},
        "along": str(data / "pr_1" / "n_make" / "data" / "slope=0.5"),
        "along_called": str(data / "pr_1" / "n_make" / "data" / "slope=0.5"),
        "other": str(data / "pr_1" / "n_model" / "data"),
    }
    assert (fit / "data" / "slope=0.5" / "fit.txt").read_text() == "fitted"


def test_an_unmapped_node_has_no_item_and_keeps_its_data_folder(data, monkeypatch):
    child = data / "pr_1" / "n_model"
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(child))
    assert fusionpipe.item() == {}
    assert fusionpipe.item_id() is None
    assert fusionpipe.data_dir() == child / "data"
    assert fusionpipe.parameters() == {"run_mode": "local"}


def test_outside_a_run_a_mapped_node_reads_its_parameters_without_map(data, monkeypatch):
    # A notebook session in the node: no item runs.
    monkeypatch.chdir(data / "pr_1" / "n_fit" / "code")
    assert fusionpipe.item() == {}
    assert fusionpipe.parameters() == {"slope": 1.0, "order": 1}
    assert fusionpipe.parent("01").data_dir == data / "pr_1" / "n_make" / "data"


def test_item_needs_no_node_but_refuses_a_broken_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fusionpipe.item() == {} and fusionpipe.item_id() is None
    monkeypatch.setenv("FUSIONPIPE_ITEM", '{"file": "/x/a.h5"}')
    assert fusionpipe.item() == {"file": "/x/a.h5"}
    monkeypatch.setenv("FUSIONPIPE_ITEM", "{slope: 1")
    with pytest.raises(ValueError, match=r"\$FUSIONPIPE_ITEM is not JSON"):
        fusionpipe.item()
    monkeypatch.setenv("FUSIONPIPE_ITEM", "[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        fusionpipe.item()


def test_a_child_mapped_along_another_slot_reads_that_parent_whole(data, monkeypatch):
    fit = data / "pr_1" / "n_fit"
    for name, value in item_environment(fit, "slope=2.0", {"slope": 2.0}, along="02").items():
        monkeypatch.setenv(name, value)
    assert fusionpipe.parent("01").data_dir == data / "pr_1" / "n_make" / "data"
    assert fusionpipe.parent("02").data_dir() == data / "pr_1" / "n_model" / "data" / "slope=2.0"


def test_data_dir_stays_a_path_for_existing_code(data, monkeypatch):
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(data / "pr_1" / "n_fit"))
    outputs = fusionpipe.parent("make").data_dir
    assert isinstance(outputs, Path)
    assert outputs == outputs() == data / "pr_1" / "n_make" / "data"
    (outputs / "points.csv").write_text("x,y\n")
    assert [p.name for p in outputs.iterdir()] == ["points.csv"]
    assert str(outputs / "points.csv") == str(data / "pr_1" / "n_make" / "data" / "points.csv")
    assert os.fspath(outputs) == str(data / "pr_1" / "n_make" / "data")
    assert {outputs: 1}[data / "pr_1" / "n_make" / "data"] == 1
    # Parents travel to Ray workers by pickle.
    assert pickle.loads(pickle.dumps(fusionpipe.parent("01"))).data_dir == outputs


def test_a_gathering_child_lists_the_items_of_its_parent(data, monkeypatch):
    fit = data / "pr_1" / "n_fit"
    write_items(
        fit,
        [
            ("slope=0.5", {"slope": 0.5}, "completed"),
            ("slope=2.0", {"slope": 2.0}, "failed"),
        ],
    )
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(data / "pr_1" / "n_plot"))
    items = fusionpipe.parent("01").items()
    assert [(i.id, i.values, i.status, i.data_dir) for i in items] == [
        ("slope=0.5", {"slope": 0.5}, "completed", fit / "data" / "slope=0.5"),
        ("slope=2.0", {"slope": 2.0}, "failed", fit / "data" / "slope=2.0"),
    ]
    assert fusionpipe.parent("fit").items() == items


def test_items_of_an_unmapped_or_unrun_parent_say_which_input(data, monkeypatch):
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(data / "pr_1" / "n_fit"))
    with pytest.raises(ValueError, match=r"input 02 \('model'\) has no items: it is not a mapped"):
        fusionpipe.parent("02").items()
    make = data / "pr_1" / "n_make"
    (make / "items.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"cannot read the items of input 01 \('make'\)"):
        fusionpipe.parent("01").items()
    (make / "items.json").write_text('{"items": {"a": 1}}')
    with pytest.raises(ValueError, match="holds no list of items"):
        fusionpipe.parent("01").items()
    (make / "items.json").write_text('{"items": [{"values": {}}]}')
    with pytest.raises(ValueError, match="an item without an id"):
        fusionpipe.parent("01").items()


def test_metrics_merge_into_the_file_the_run_names(data, monkeypatch):
    fit = data / "pr_1" / "n_fit"
    env = item_environment(fit, "slope=0.5", {"slope": 0.5}, along="01")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    target = Path(env["FUSIONPIPE_METRICS_FILE"])
    assert fusionpipe.metrics(chi2=0.31, converged=True) == {"chi2": 0.31, "converged": True}
    assert fusionpipe.metrics(chi2=0.25, method="lsq", steps=12) == {
        "chi2": 0.25,
        "converged": True,
        "method": "lsq",
        "steps": 12,
    }
    assert json.loads(target.read_text()) == {
        "chi2": 0.25,
        "converged": True,
        "method": "lsq",
        "steps": 12,
    }
    assert fusionpipe.metrics() == json.loads(target.read_text())
    # Written beside and renamed over: nothing else is left in the folder.
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    # With the usual permissions, not a temporary file's 0600: colleagues can read it.
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_metrics_accept_numbers_python_counts_as_real(data, monkeypatch):
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(data / "pr_1" / "n_make"))
    recorded = fusionpipe.metrics(ratio=Fraction(1, 4), big=2**70, flag=False)
    assert recorded == {"ratio": 0.25, "big": 2**70, "flag": False}
    assert type(recorded["ratio"]) is float


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], r"metric 'bad' must be an int, a float, a bool or a str, not list"),
        ({"a": 1}, "not dict"),
        (None, "not NoneType"),
        (float("nan"), r"metric 'bad' must be a finite number, not nan"),
        (float("inf"), "must be a finite number, not inf"),
        (1 + 2j, "not complex"),
        (b"bytes", "not bytes"),
    ],
)
def test_metrics_refuse_what_is_not_a_scalar(data, monkeypatch, value, message):
    target = data / "metrics.json"
    monkeypatch.setenv("FUSIONPIPE_METRICS_FILE", str(target))
    fusionpipe.metrics(good=1)
    with pytest.raises(TypeError, match=message):
        fusionpipe.metrics(fine=2, bad=value)
    # Nothing of a refused call is recorded.
    assert json.loads(target.read_text()) == {"good": 1}


def test_outside_a_run_metrics_go_to_the_reports_folder(data, monkeypatch):
    node = data / "pr_1" / "n_make"
    monkeypatch.chdir(node / "code")
    assert fusionpipe.metrics(chi2=1.5) == {"chi2": 1.5}
    assert json.loads((node / "reports" / "metrics.json").read_text()) == {"chi2": 1.5}


def test_metrics_outside_any_node_and_run_say_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(fusionpipe.NotInNodeError):
        fusionpipe.metrics(chi2=1.0)


def test_a_broken_metrics_file_is_named(data, monkeypatch):
    target = data / "metrics.json"
    monkeypatch.setenv("FUSIONPIPE_METRICS_FILE", str(target))
    target.write_text("[1]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        fusionpipe.metrics(chi2=1.0)
    target.write_text("{chi2")
    with pytest.raises(ValueError, match=f"the metrics file {target} is not JSON"):
        fusionpipe.metrics(chi2=1.0)


def test_metrics_from_many_threads_are_all_kept(data, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    target = data / "metrics.json"
    monkeypatch.setenv("FUSIONPIPE_METRICS_FILE", str(target))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: fusionpipe.metrics(**{f"m{k}": k}), range(40)))
    assert json.loads(target.read_text()) == {f"m{k}": k for k in range(40)}


def test_parents_and_items_are_frozen_records(data, monkeypatch):
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(data / "pr_1" / "n_fit"))
    first = fusionpipe.parent("01")
    assert first == fusionpipe.parents()[0] and first != fusionpipe.parent("02")
    assert len({first, fusionpipe.parent("make")}) == 1
    assert repr(first) == (
        f"Parent(id='n_make', tag='make', slot='01', folder={data / 'pr_1' / 'n_make'!r})"
    )
    with pytest.raises(AttributeError, match="frozen"):
        first.tag = "other"  # type: ignore[misc]
    made = fusionpipe.Parent(id="n_x", tag="x", slot="03", folder=Path("/x"))
    assert made.folder == Path("/x")
    with pytest.raises(TypeError):
        fusionpipe.Parent("n_x", "x")  # type: ignore[call-arg]
    one = fusionpipe.Item("slope=1", {"slope": 1}, "completed", Path("/x/data/slope=1"))
    assert pickle.loads(pickle.dumps(one)) == one and hash(one)
    assert one != fusionpipe.Item("slope=1", {"slope": 2}, "completed", Path("/x/data/slope=1"))


def test_importing_the_package_stays_cheap(tmp_path):
    """Every node and every item imports it: no dataclasses, no typing at run time."""
    source = """
        import sys
        import fusionpipe
        print(sorted({"dataclasses", "typing", "inspect", "threading"} & set(sys.modules)))
    """
    result = run([sys.executable, "-c", textwrap.dedent(source)], tmp_path)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_original_api_writes_an_item_into_its_own_folder(data, monkeypatch):
    from fp_user_utils import user_api

    fit = data / "pr_1" / "n_fit"
    monkeypatch.setenv("FUSIONPIPE_NODE_FOLDER", str(fit))
    assert user_api.get_current_node_folder_path_data() == str(fit / "data")
    for name, value in item_environment(fit, "slope=0.5", {"slope": 0.5}, along="01").items():
        monkeypatch.setenv(name, value)
    assert user_api.get_current_node_folder_path_data() == str(fit / "data" / "slope=0.5")
