"""The import planner's rules on small original installations, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionpipe_server.errors import Invalid
from fusionpipe_server.importing.original import (
    OriginalEdge,
    OriginalInstallation,
    OriginalLineage,
    OriginalMember,
    OriginalNode,
    OriginalPipeline,
    OriginalProject,
)
from fusionpipe_server.importing.outcome import Existing, FolderFacts
from fusionpipe_server.importing.rules import plan_import


def installation(edges=(), lineage=(), pipelines=None, node_ids=("n_a", "n_b", "n_c")):
    pipelines = pipelines or [OriginalPipeline("p_1", "one", None, None, "pr_1", False)]
    return OriginalInstallation(
        projects=[OriginalProject("pr_1", None, None, None)],
        pipelines=pipelines,
        nodes=[
            OriginalNode(n, "completed", None, f"/d/pr_1/{n}", None, False, "pr_1", None)
            for n in node_ids
        ],
        members=[OriginalMember(n, p.pipeline_id, 1.0, 2.0) for p in pipelines for n in node_ids],
        edges=[OriginalEdge(i, c, p, s) for i, (p, c, s) in enumerate(edges)],
        lineage=[OriginalLineage(c, p) for c, p in lineage],
    )


def facts(node_ids=("n_a", "n_b", "n_c")):
    return {
        n: FolderFacts(Path(f"/d/pr_1/{n}"), f"pr_1/{n}", "someone", "python") for n in node_ids
    }


def plan(original, existing=None, **options):
    return plan_import(
        original,
        existing or Existing(),
        facts(),
        default_owner=options.get("default_owner", "admin"),
        in_place=options.get("in_place", False),
    )


def test_missing_tags_become_ids_and_missing_owners_the_folder_owner_or_the_default():
    result = plan(installation())
    assert result.projects == [{"id": "pr_1", "tag": "pr_1", "notes": "", "owner": "admin"}]
    assert result.pipelines[0]["owner"] == "admin"
    assert {n.row["owner"] for n in result.nodes} == {"someone"}
    assert [n.row["tag"] for n in result.nodes] == ["n_a", "n_b", "n_c"]


def test_slots_missing_or_taken_get_the_next_free_one_and_duplicates_come_once():
    result = plan(
        installation(
            edges=[
                ("n_a", "n_c", "01"),
                ("n_b", "n_c", "01"),  # slot taken by another parent
                ("n_a", "n_c", "01"),  # the same edge twice
                ("n_a", "n_b", None),  # no slot
            ]
        )
    )
    assert result.edges == [("n_a", "n_c", "01"), ("n_b", "n_c", "02"), ("n_a", "n_b", "01")]
    assert result.counts["edges"] == [4, 3, 0, 1]
    assert any("slot already used by another parent" in p for p in result.problems)
    assert any("in the original twice" in p for p in result.problems)
    assert any("no slot: imported on slot '01'" in p for p in result.problems)


def test_a_pipeline_with_several_parents_is_a_merge_and_orphans_are_skipped():
    pipelines = [
        OriginalPipeline(pid, pid, None, None, project, False)
        for pid, project in [("p_1", "pr_1"), ("p_2", "pr_1"), ("p_3", "pr_1"), ("p_4", None)]
    ]
    result = plan(
        installation(
            pipelines=pipelines,
            lineage=[("p_3", "p_1"), ("p_3", "p_2"), ("p_2", "p_1"), ("p_4", "p_1"), ("p_2", None)],
        )
    )
    assert sorted(result.lineage) == [
        ("p_2", "p_1", "branch"),
        ("p_3", "p_1", "merge"),
        ("p_3", "p_2", "merge"),
    ]
    assert result.counts["pipelines"] == [4, 3, 0, 1]
    assert any("p_4" in p and "belongs to no project" in p for p in result.problems)


def test_a_taken_pipeline_tag_is_made_unique_and_said():
    existing = Existing(pipeline_tags={"one": "p_other"})
    result = plan(installation(), existing)
    assert result.pipelines[0]["tag"] == "one (p_1)"
    assert any("its tag 'one' is taken here by p_other" in p for p in result.problems)


def test_what_is_already_there_is_counted_and_its_differences_reported_not_written():
    existing = Existing(
        projects={"pr_1": {"tag": "pr_1", "notes": ""}},
        pipelines={"p_1": {"tag": "one", "notes": "", "locked": True}},
        nodes={"n_a": {"tag": "n_a", "notes": "", "status": "ready", "locked": False}},
        members={("p_1", "n_a")},
    )
    result = plan(installation(), existing)
    assert result.projects == [] and result.pipelines == []
    assert [n.row["id"] for n in result.nodes] == ["n_b", "n_c"]
    assert result.counts["memberships"] == [3, 2, 1, 0]
    assert sorted(result.differences) == [
        "node n_a: status is 'ready' here, 'completed' in the original (kept as it is)",
        "pipeline p_1: locked is True here, False in the original (kept as it is)",
    ]


def test_in_place_keeps_the_original_folder_and_a_copy_uses_the_layout_here():
    assert plan(installation(), in_place=True).nodes[0].row["folder"] == "pr_1/n_a"
    moved = installation()
    moved.nodes[0] = OriginalNode("n_a", "ready", None, "/x", None, False, None, None)
    assert plan(moved).nodes[0].row["project_id"] == "pr_1", "from its pipeline's project"


def test_no_folder_found_at_all_means_the_wrong_data_folder():
    with pytest.raises(Invalid, match="none of the 3 node folders"):
        plan_import(installation(), Existing(), {}, default_owner="a", in_place=False)
