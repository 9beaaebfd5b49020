"""pipeline.yaml without I/O: folder names, stable text, and every refusal of a bad file."""

from __future__ import annotations

import pytest

from fusionpipe_server.core import pipeline_build, pipeline_file
from fusionpipe_server.core.pipeline_build import SourceGroup, SourceNode, base_name, unique_names
from fusionpipe_server.errors import Invalid


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("fit/plot", "fit-plot"),
        ("  Raw Data  v2 ", "raw-data-v2"),
        ("Température", "temperature"),
        ("温度", "node"),
        ("..", "node"),
        ("con", "node-con"),
        ("x" * 300, "x" * pipeline_file.MAX_NAME_LENGTH),
    ],
)
def test_folder_names_are_safe_whatever_the_tag(tag, name):
    assert base_name(tag, "node") == name
    assert pipeline_file.NAME_PATTERN.match(name)


def test_equal_names_are_numbered_by_content_never_by_id():
    items = [("id-b", "fit", (2,)), ("id-a", "fit", (1,)), ("id-c", "fit-2", (0,))]
    names = unique_names(items, "node")
    assert names == {"id-a": "fit", "id-b": "fit-3", "id-c": "fit-2"}
    renamed = [("zz", "fit", (2,)), ("aa", "fit", (1,)), ("mm", "fit-2", (0,))]
    assert sorted(unique_names(renamed, "node").values()) == sorted(names.values())
    assert unique_names(renamed, "node")["zz"] == "fit-3"


def sample():
    nodes = [
        SourceNode("n1", "load/raw", "python", "", 0.0, 0.0, None, ()),
        SourceNode("n2", "fit", "notebook", "two\nlines", 10.5, 100.0, "g1", (1,)),
        SourceNode("n3", "fit", "shell", "", -3.0, 200.0, "g1", (2,)),
    ]
    edges = [("n1", "n3", "01"), ("n1", "n2", "01"), ("n2", "n3", "02")]
    groups = [SourceGroup("g1", "Fits", True, 1.0, 2.0, 300.0, 150.0)]
    return pipeline_build.build("analysis", "", "9.9", nodes, edges, groups)


def test_the_text_is_stable_and_reads_back_the_same():
    document, names = sample()
    assert names == {"n1": "load-raw", "n2": "fit", "n3": "fit-2"}
    text = pipeline_file.dump(document)
    assert "n1" not in text and "g1" not in text, "a database id leaked into pipeline.yaml"
    assert "format_version: 1" in text and "fusionpipe_version: '9.9'" in text
    assert "notes: |-\n      two\n      lines" in text
    parsed = pipeline_file.parse(text)
    assert parsed == document.__class__(
        document.tag,
        document.notes,
        "9.9",
        tuple(sorted(document.nodes, key=lambda n: n.name)),
        tuple(sorted(document.edges, key=lambda e: (e.child, e.slot))),
        document.groups,
    )
    assert pipeline_file.dump(parsed) == text


def edited(text, old, new):
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("nodes:", "nodes: [unclosed"), "not valid YAML at line"),
        (("format_version: 1", "format_version: 2"), "format version 2; this fusionpipe reads"),
        (("format: fusionpipe-pipeline", "format: other"), "not a fusionpipe pipeline"),
        (("kind: shell", "kind: fortran"), "nodes.fit-2.kind must be one of"),
        (("parent: load-raw", "parent: ghost"), "edges[0].parent 'ghost' is not one of"),
        (("slot: '02'", "slot: 2"), "slot must be digits in quotes"),
        (("group: g1", "group: nowhere"), "group 'nowhere' is not one of the groups"),
        (("  fit-2:", "  ../up:"), "not a safe folder name"),
        (("    tag: fit\n", "    tag: fit\n    colour: red\n"), "unknown field nodes.fit.colour"),
        (("x: 10.5", "x: .nan"), "nodes.fit.position.x must be a finite number"),
    ],
)
def test_a_bad_file_is_refused_naming_what_is_wrong(change, message):
    document, _ = sample()
    text = pipeline_file.dump(document).replace("group: fits", "group: g1")
    text = text.replace("  fits:", "  g1:")
    with pytest.raises(Invalid) as caught:
        pipeline_file.parse(edited(text, *change))
    assert message in caught.value.message


def test_cycles_and_aliases_are_refused():
    nodes = [SourceNode(key, key, "python", "", 0.0, 0.0, None, ()) for key in "abc"]
    edges = [("a", "b", "01"), ("b", "c", "01"), ("c", "a", "01")]
    cyclic, _ = pipeline_build.build("loop", "", "9.9", nodes, edges, [])
    with pytest.raises(Invalid, match=r"the edges make a cycle: ([abc]) -> [abc] -> [abc] -> \1"):
        pipeline_file.parse(pipeline_file.dump(cyclic))
    bomb = "format: fusionpipe-pipeline\nformat_version: 1\na: &a [x, x]\nb: [*a, *a]\n"
    with pytest.raises(Invalid, match="must not use YAML aliases"):
        pipeline_file.parse(bomb)


def test_a_change_to_one_node_is_a_change_in_one_place():
    document, _ = sample()
    before = pipeline_file.dump(document).splitlines()
    nodes = [
        SourceNode("n1", "load/raw", "python", "", 0.0, 0.0, None, ()),
        SourceNode("n2", "fit", "notebook", "two\nlines", 10.5, 100.0, "g1", (1,)),
        SourceNode("n3", "fit", "shell", "", -3.0, 250.0, "g1", (2,)),  # moved down
    ]
    edges = [("n1", "n3", "01"), ("n1", "n2", "01"), ("n2", "n3", "02")]
    groups = [SourceGroup("g1", "Fits", True, 1.0, 2.0, 300.0, 150.0)]
    moved, _ = pipeline_build.build("analysis", "", "9.9", nodes, edges, groups)
    after = pipeline_file.dump(moved).splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1 and after[changed[0]].strip() == "y: 250.0"
