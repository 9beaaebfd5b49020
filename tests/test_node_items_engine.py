"""The node API of mapped nodes on the real run engine (the ``engine`` fixture): what node code
reads and records when fusionpipe runs its items, in Python and in GNU Octave. The engine's own
behaviour (forms of ``map:``, staleness, failures) is in test_mapped_nodes.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_runs_api import write_code

MAKE = """
import json, fusionpipe
slope = fusionpipe.item()["slope"]
(fusionpipe.data_dir() / "line.json").write_text(json.dumps([slope * x for x in range(3)]))
"""
# Mapped along slot 01: its own item, the matching item of the parent, metrics per item.
FIT = """
import json, fusionpipe
line = json.loads((fusionpipe.parent("01").data_dir() / "line.json").read_text())
slope = line[1] - line[0]
assert fusionpipe.parameters()["slope"] == fusionpipe.item()["slope"] == slope
(fusionpipe.data_dir() / "fit.json").write_text(json.dumps({"slope": slope}))
fusionpipe.metrics(slope=slope, chi2=slope / 10, item=fusionpipe.item_id())
"""
# Unmapped: gathers every item of the fit.
GATHER = """
import json, fusionpipe
found = [
    [i.id, i.values, i.status, json.loads((i.data_dir / "fit.json").read_text())["slope"]]
    for i in fusionpipe.parent("fit").items()
]
(fusionpipe.data_dir() / "gathered.json").write_text(json.dumps(found))
fusionpipe.metrics(items=len(found))
"""
OCTAVE_FIT = """
item = fp_item();
line = jsondecode(fileread(fullfile(fp_parent('01').data_dir, 'line.json')));
handle = fopen(fullfile(fp_data_dir(), 'fit.txt'), 'w');
fprintf(handle, '%s %g', fp_item_id(), line(2) - line(1));
fclose(handle);
fp_metrics('slope', line(2) - line(1), 'double', 2 * item.slope);
"""


@pytest.fixture
def engine_settings():
    return {"max_parallel_nodes": 2}


def folder(node) -> Path:
    return Path(node["folder"])


async def test_along_and_gather_read_and_record_per_item(engine):
    pipeline = await engine.pipeline()
    make = await engine.node(pipeline, "make")
    await engine.set_parameters(make, "map:\n  slope: [0.5, 2.0]\n")
    write_code(make, MAKE)
    fit = await engine.node(pipeline, "fit")
    await engine.connect(pipeline, make, fit)
    await engine.set_parameters(fit, 'map: {along: "01"}\nslope: 99\n')
    write_code(fit, FIT)
    gather = await engine.node(pipeline, "gather")
    await engine.connect(pipeline, fit, gather)
    write_code(gather, GATHER)

    finished = await engine.run(pipeline)
    assert finished["status"] == "completed", finished
    assert await engine.item_statuses(fit) == {"slope=0.5": "completed", "slope=2.0": "completed"}
    page = await engine.items(fit)
    assert {i["id"]: i["metrics"] for i in page["items"]} == {
        "slope=0.5": {"slope": 0.5, "chi2": 0.05, "item": "slope=0.5"},
        "slope=2.0": {"slope": 2.0, "chi2": 0.2, "item": "slope=2.0"},
    }
    gathered = json.loads((folder(gather) / "data" / "gathered.json").read_text())
    assert gathered == [
        ["slope=0.5", {"slope": 0.5}, "completed", 0.5],
        ["slope=2.0", {"slope": 2.0}, "completed", 2.0],
    ]
    assert not (folder(fit) / "data" / "fit.json").exists()  # each item writes in its own


async def test_an_octave_node_mapped_along_reads_its_item_and_records_metrics(engine):
    pipeline = await engine.pipeline()
    make = await engine.node(pipeline, "make")
    await engine.set_parameters(make, "map:\n  slope: [0.5, 3]\n")
    write_code(make, MAKE)
    fit = await engine.node(pipeline, "fit", kind="matlab")
    await engine.connect(pipeline, make, fit)
    await engine.set_parameters(fit, 'map: {along: "01"}\n')
    write_code(fit, OCTAVE_FIT, name="main.m")

    finished = await engine.run(pipeline)
    assert finished["status"] == "completed", finished
    for item_id, slope in (("slope=0.5", "0.5"), ("slope=3", "3")):
        assert (folder(fit) / "data" / item_id / "fit.txt").read_text() == f"{item_id} {slope}"
    page = await engine.items(fit)
    assert {i["id"]: i["metrics"] for i in page["items"]} == {
        "slope=0.5": {"slope": 0.5, "double": 1},
        "slope=3": {"slope": 3, "double": 6},
    }
