"""Unit tests of the pure graph rules (no database, no files)."""

from __future__ import annotations

import itertools

import pytest

from fusionpipe_server.core import dag
from fusionpipe_server.errors import Conflict, Invalid
from fusionpipe_server.models import Status

C, F, R, RUN, S = Status.COMPLETED, Status.FAILED, Status.READY, Status.RUNNING, Status.STALEDATA


def counter(prefix="new"):
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


def test_find_cycle_returns_the_path_starting_with_the_new_edge():
    edges = [("a", "b"), ("b", "c")]
    assert dag.find_cycle(edges, ("c", "a")) == ["c", "a", "b", "c"]
    assert dag.find_cycle(edges, ("a", "c")) is None
    assert dag.find_cycle(edges, ("a", "a")) == ["a", "a"]
    assert dag.find_cycle([], ("x", "y")) is None


def test_find_cycle_takes_the_shortest_way_back():
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]
    assert dag.find_cycle(edges, ("d", "a")) == ["d", "a", "d"]


def test_ancestors_and_descendants():
    edges = [("a", "b"), ("b", "c"), ("x", "c"), ("c", "d")]
    assert dag.descendants(edges, ["b"]) == {"c", "d"}
    assert dag.ancestors(edges, ["c"]) == {"a", "b", "x"}
    assert dag.descendants(edges, ["d"]) == set()


def test_topological_order_is_deterministic_and_respects_edges():
    edges = [("b", "a"), ("c", "a")]
    assert dag.topological_order(["a", "b", "c"], edges) == ["b", "c", "a"]
    assert dag.topological_order(["a", "c", "b"], edges) == ["c", "b", "a"]
    # In waves: everything free at once comes before what it frees, whatever the given order.
    chains = [("a1", "a2"), ("a2", "a3"), ("b1", "b2")]
    assert dag.topological_order(["a3", "a2", "a1", "b2", "b1"], chains) == [
        "a1",
        "b1",
        "a2",
        "b2",
        "a3",
    ]
    assert dag.topological_order(["x", "y"], [("x", "y"), ("x", "y")]) == ["x", "y"]
    with pytest.raises(ValueError, match="cycle"):
        dag.topological_order(["x", "y", "z"], [("x", "y"), ("y", "x")])


def test_next_slot_counts_past_the_highest_and_past_99():
    assert dag.next_slot([]) == "01"
    assert dag.next_slot(["01", "02"]) == "03"
    assert dag.next_slot(["01", "03"]) == "04", "gaps are not reused"
    assert dag.next_slot(["99"]) == "100"


def test_invalidate_stales_completed_descendants_only():
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "e")]
    statuses = {"a": C, "b": R, "c": F, "d": C, "e": RUN}
    # b is ready and keeps it, c failed and keeps that (its outputs are not a success's to
    # call stale), but their descendants are still reached (transitively).
    assert dag.invalidate(statuses, edges, ["a"]) == {"d": S}
    # The same rule when the database has found the descendants; the node itself is not one.
    assert dag.stale_descendants(statuses, {"b", "c", "d", "e"}) == {"d": S}


def test_manual_completed_changes_only_the_named_nodes():
    edges = [("a", "b"), ("b", "c")]
    statuses = {"a": S, "b": S, "c": C}
    assert dag.manual_status_plan(statuses, edges, ["b"], C) == {"b": C}


def test_manual_stale_invalidates_descendants():
    edges = [("a", "b"), ("b", "c")]
    statuses = {"a": C, "b": C, "c": F}
    assert dag.manual_status_plan(statuses, edges, ["a"], S) == {"a": S, "b": S}


@pytest.mark.parametrize("order", list(itertools.permutations(["a", "b", "c"])))
def test_manual_set_does_not_depend_on_request_order(order):
    edges = [("a", "b"), ("b", "c")]
    statuses = {"a": S, "b": S, "c": S}
    assert dag.manual_status_plan(statuses, edges, order, C) == {"a": C, "b": C, "c": C}
    statuses = {"a": C, "b": C, "c": C, "d": C}
    stale = dag.manual_status_plan(statuses, [*edges, ("c", "d")], order, S)
    assert stale == {"a": S, "b": S, "c": S, "d": S}


def test_manual_set_refuses_other_statuses():
    with pytest.raises(Invalid):
        dag.manual_status_plan({"a": R}, [], ["a"], RUN)


def test_run_scope():
    edges = [("a", "b"), ("b", "c"), ("x", "y")]
    members = ["a", "b", "c", "x", "y"]
    assert dag.run_scope(members, edges) == set(members)
    assert dag.run_scope(members, edges, until="b") == {"a", "b"}
    assert dag.run_scope(members, edges, selected=["c", "y"]) == {"c", "y"}


def test_plan_copy_keeps_slots_inside_and_outside_the_selection():
    edges = [("p", "a", "02"), ("q", "a", "01"), ("a", "b", "01"), ("b", "z", "01")]
    plan = dag.plan_copy(["a", "b"], edges, available={"p", "q"}, new_id=counter())
    assert plan.id_map == {"a": "new1", "b": "new2"}
    assert sorted(plan.edges) == [("new1", "new2", "01"), ("p", "new1", "02"), ("q", "new1", "01")]


def test_plan_copy_refuses_a_missing_outside_parent_naming_it():
    with pytest.raises(Conflict, match="from p"):
        dag.plan_copy(["a"], [("p", "a", "01")], available=set(), new_id=counter())


def test_check_reference_needs_the_parents_along_or_present():
    dag.check_reference({"a"}, [], available=set())
    dag.check_reference({"a", "p"}, [("p", "a")], available=set())
    dag.check_reference({"a"}, [("p", "a")], available={"p"})
    with pytest.raises(Conflict, match="reference p too"):
        dag.check_reference({"a"}, [("p", "a")], available=set())


def test_plan_branch_copies_from_the_start_down_and_shares_the_rest():
    edges = [("a", "b", "01"), ("b", "c", "01"), ("x", "c", "02")]
    plan = dag.plan_branch(["a", "b", "c", "x"], edges, "b", new_id=counter())
    assert plan.shared == ["a", "x"]
    assert plan.copy.id_map == {"b": "new1", "c": "new2"}
    assert sorted(plan.copy.edges) == [
        ("a", "new1", "01"),
        ("new1", "new2", "01"),
        ("x", "new2", "02"),
    ]


def test_plan_detach_copies_shared_nodes_and_rewires_private_children():
    # a and b are shared with another pipeline; x is this pipeline's own child of b.
    edges = [("a", "b", "01"), ("b", "x", "01"), ("a", "x", "02")]
    plan = dag.plan_detach(["a", "b", "x"], edges, {"a", "b"}, "a", new_id=counter())
    assert plan.copy.id_map == {"a": "new1", "b": "new2"}
    assert sorted(plan.copy.edges) == [
        ("new1", "new2", "01"),
        ("new1", "x", "02"),
        ("new2", "x", "01"),
    ]
    assert sorted(plan.removed_edges) == [("a", "x"), ("b", "x")]


def test_plan_detach_of_a_lower_node_keeps_its_shared_parents():
    edges = [("a", "b", "01"), ("b", "x", "01")]
    plan = dag.plan_detach(["a", "b", "x"], edges, {"a", "b"}, "b", new_id=counter())
    assert plan.copy.id_map == {"b": "new1"}
    assert sorted(plan.copy.edges) == [("a", "new1", "01"), ("new1", "x", "01")]
    assert plan.removed_edges == [("b", "x")]


def test_plan_detach_refuses_when_nothing_is_shared():
    with pytest.raises(Conflict, match="nothing"):
        dag.plan_detach(["a"], [], set(), "a", new_id=counter())
