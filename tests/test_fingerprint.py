"""Fingerprints without a server: which files count, what a notebook or parameters file counts
by, the stat cache (what a check reads), the reasons, and the assessment rules."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from fusionpipe_server.core import planning
from fusionpipe_server.fingerprint.hashing import StatCache
from fusionpipe_server.fingerprint.parts import Input, Parts, differences
from fusionpipe_server.fingerprint.scan import outputs_digest, scan_folder
from fusionpipe_server.fingerprint.selection import code_files
from fusionpipe_server.models import Status

C, S, R, F, RUN = (
    Status.COMPLETED,
    Status.STALEDATA,
    Status.READY,
    Status.FAILED,
    Status.RUNNING,
)


def make_node(root: Path) -> Path:
    (root / "code").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "code" / "main.py").write_text("print(1)\n")
    (root / "code" / "node_parameters.yaml").write_text("lr: 0.1\n")
    (root / "code" / "requirements.txt").write_text("numpy\n")
    return root


def backdate(folder: Path) -> None:
    """Files written long enough ago that their stat can be trusted (not "racily clean")."""
    for path in folder.rglob("*"):
        os.utime(
            path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000), follow_symlinks=False
        )


def test_what_counts_under_code(tmp_path):
    node = make_node(tmp_path / "n")
    code = node / "code"
    for ignored in [
        ".venv/bin/python",
        "venv/lib/site.py",
        "__pycache__/main.cpython-311.pyc",
        ".ipynb_checkpoints/main-checkpoint.ipynb",
        ".git/HEAD",
        "helper.pyc",
        "main.py~",
        "#main.py#",
        ".secret",
        "build/out.o",
    ]:
        (code / ignored).parent.mkdir(parents=True, exist_ok=True)
        (code / ignored).write_text("x")
    (code / ".gitignore").write_text("build/\n")
    (code / ".python-version").write_text("3.11\n")
    (code / "lib").mkdir()
    (code / "lib" / "util.py").write_text("x = 1")
    (code / "data.csv").symlink_to("/etc/hostname")
    found = {f.relative: f.role for f, _ in code_files(code)}
    assert found == {
        "main.py": "code",
        "lib/util.py": "code",
        "data.csv": "code",
        "node_parameters.yaml": "parameters",
        "requirements.txt": "environment",
        ".python-version": "environment",
    }


def test_ignore_rules_are_read_again_when_their_file_changes(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "a.py").write_text("x")
    (code / "b.py").write_text("y")
    ignore = code / ".gitignore"

    def counted():
        return sorted(f.relative for f, _ in code_files(code))

    ignore.write_text("a.py\n")
    assert counted() == ["b.py"]
    ignore.write_text("b.py\n")  # same size, same clock tick: never trusted from a cache
    assert counted() == ["a.py"]
    aged = time.time() - 10
    os.utime(ignore, (aged, aged))
    assert counted() == ["a.py"] == counted()
    ignore.write_text("*.py\n")
    os.utime(ignore, (aged, aged))  # same mtime, but the write changed size and ctime
    assert counted() == []
    ignore.unlink()
    assert counted() == ["a.py", "b.py"]
    shared = tmp_path / "shared-ignore"  # a link: its own stat says nothing of its target
    shared.write_text("a.py\n")
    os.utime(shared, (aged, aged))
    ignore.symlink_to(shared)
    os.utime(ignore, (aged, aged), follow_symlinks=False)
    assert counted() == ["b.py"]
    shared.write_text("b.py\n")
    os.utime(shared, (aged, aged))
    assert counted() == ["a.py"]


def test_parameters_count_by_value_and_notebooks_by_code_cells(tmp_path):
    node = make_node(tmp_path / "n")
    first = scan_folder(node, StatCache(), outputs=False)
    (node / "code" / "node_parameters.yaml").write_text("# tuned\nlr:   0.1   # same\n")
    assert scan_folder(node, StatCache(), outputs=False).parameters == first.parameters
    (node / "code" / "node_parameters.yaml").write_text("lr: 0.1\nrun_mode: ray\ntimeout: 5\n")
    assert scan_folder(node, StatCache(), outputs=False).parameters == first.parameters
    (node / "code" / "node_parameters.yaml").write_text("lr: 0.2\n")
    assert scan_folder(node, StatCache(), outputs=False).parameters != first.parameters

    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "# title", "metadata": {}},
            {"cell_type": "code", "source": ["x = 1\n", "x"], "metadata": {}, "outputs": []},
        ],
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
    }
    path = node / "code" / "main.ipynb"
    path.write_text(json.dumps(notebook))
    before = scan_folder(node, StatCache(), outputs=False).code["main.ipynb"]
    notebook["cells"][1]["outputs"] = [{"output_type": "execute_result", "data": {}}]
    notebook["cells"][1]["execution_count"] = 3
    notebook["cells"][0]["source"] = "# another title"
    notebook["metadata"]["kernelspec"]["name"] = "fusionpipe-n_x"
    path.write_text(json.dumps(notebook, indent=2))
    assert scan_folder(node, StatCache(), outputs=False).code["main.ipynb"] == before
    notebook["cells"][1]["metadata"]["tags"] = ["parameters"]
    path.write_text(json.dumps(notebook))
    assert scan_folder(node, StatCache(), outputs=False).code["main.ipynb"] != before


def test_an_unchanged_check_reads_no_file_and_a_change_rereads_that_file_only(tmp_path):
    node = make_node(tmp_path / "n")
    for i in range(20):
        (node / "data" / f"part{i}.bin").write_bytes(os.urandom(1024))
    backdate(node)
    cache = StatCache()
    first = scan_folder(node, cache, outputs=True)
    assert len(cache.hashed) == 23
    again = StatCache(cache.entries)
    assert scan_folder(node, again, outputs=True) == first
    assert again.hashed == [], "nothing changed: no content read"
    (node / "data" / "part7.bin").write_bytes(os.urandom(1024))
    once_more = StatCache(cache.entries)
    changed = scan_folder(node, once_more, outputs=True)
    assert once_more.hashed == ["data/part7.bin"]
    assert changed.outputs != first.outputs and changed.code == first.code


def test_a_file_written_just_before_hashing_is_hashed_again(tmp_path):
    node = make_node(tmp_path / "n")
    cache = StatCache()
    scan_folder(node, cache, outputs=False)
    again = StatCache(cache.entries)
    scan_folder(node, again, outputs=False)
    assert "code/main.py" in again.hashed, "modified within the clock tick: not trusted yet"


def test_outputs_by_stat_read_nothing_and_links_are_not_followed(tmp_path):
    node = make_node(tmp_path / "n")
    big = tmp_path / "dataset.bin"
    big.write_bytes(b"a" * 1000)
    (node / "data" / "dataset.bin").symlink_to(big)
    cache = StatCache()
    digest = outputs_digest(node, cache, by_stat=False)
    big.write_bytes(b"b" * 1000)  # the dataset changes, the link does not
    assert outputs_digest(node, StatCache(), by_stat=False) == digest
    (node / "data" / "table.csv").write_text("1,2")
    by_stat = StatCache()
    outputs_digest(node, by_stat, by_stat=True)
    assert all(by_stat.entries[p].hash.startswith(("stat:", "link:")) for p in by_stat.hashed)


def parts(**changes) -> Parts:
    values = {
        "kind": "python",
        "code": {"main.py": "1"},
        "parameters": "p1",
        "environment": {},
        "inputs": {"01": Input("n_a", "load", "d1")},
        "parameter_values": {"lr": 0.1},
    }
    values.update(changes)
    return Parts(**values)


def test_reasons_name_what_changed():
    assert differences(parts(), parts()) == []
    assert parts().fingerprint() == parts(parameter_values={"lr": 5}).fingerprint()
    found = differences(
        parts(),
        parts(
            code={"main.py": "2", "util.py": "3"},
            parameters="p2",
            parameter_values={"lr": 0.2, "epochs": 3},
            environment={"requirements.txt": "r"},
            inputs={"01": Input("n_a", "load", "d2"), "02": Input("n_b", "more", "d")},
        ),
    )
    assert [(r["kind"], r["message"]) for r in found] == [
        ("code", "code/main.py changed"),
        ("code", "code/util.py added"),
        ("parameters", "parameter epochs added: 3"),
        ("parameters", "parameter lr: 0.1 → 0.2"),
        ("environment", "code/requirements.txt added"),
        ("input", "input 01 (load) has new data"),
        ("edges", "input 02 (more) added"),
    ]


def state(node_id, status, recorded=True, manual=None, parents=()):
    return planning.NodeState(
        node_id,
        node_id,
        status,
        parts() if recorded else None,
        manual,
        "out",
        list(parents),
    )


def test_assessment_upstream_manual_outputs_and_adoption():
    states = {
        "a": state("a", C),
        "b": state("b", C, parents=["a"]),
        "c": state("c", C, recorded=False, parents=["b"]),
        "d": state("d", S, manual="ann"),
    }
    current = {n: parts() for n in states}
    current["a"] = parts(code={"main.py": "changed"})
    seen = {"a": "out", "b": "out", "c": "out", "d": "edited"}
    result = planning.assess(["a", "b", "c", "d"], states, current, seen, differences)
    assert result["a"].status == S and result["a"].reasons[0]["kind"] == "code"
    assert result["b"].reasons == [{"kind": "upstream", "message": "a is stale"}]
    # No fingerprint yet (an upgrade): it adopts the current one, and shows its parent's state.
    assert result["c"].status == S and result["c"].adopt
    assert [r["kind"] for r in result["d"].reasons] == ["outputs", "manual"]
    alone = planning.assess(["c"], {"c": states["c"]}, current, seen, differences)
    assert alone["c"].status == C and alone["c"].adopt


def test_run_decisions():
    up_to_date = planning.Assessment(C, [])
    stale = planning.Assessment(S, [{"kind": "code", "message": "x"}])
    assert planning.decide(up_to_date, manual=False, cached=True) is planning.Action.SKIP
    assert planning.decide(stale, manual=False, cached=True) is planning.Action.RESTORE
    assert planning.decide(stale, manual=True, cached=True) is planning.Action.RUN
    assert planning.decide(planning.Assessment(R, []), manual=False, cached=False) is (
        planning.Action.RUN
    )
