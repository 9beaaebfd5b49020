"""How an import carries the original's relations over: pipeline memberships, groups, edges
(with their input slots) and lineage. Pure rules, no I/O; see rules.py for the whole plan."""

from __future__ import annotations

from collections import defaultdict

from .original import OriginalInstallation, OriginalPipeline
from .outcome import NEW, SKIPPED, THERE, Existing, Plan


def members(
    original: OriginalInstallation, existing: Existing, plan: Plan, nodes: set[str]
) -> None:
    for member in original.members:
        if member.node_id not in nodes:
            plan.count("memberships", SKIPPED)
        elif (member.pipeline_id, member.node_id) in existing.members:
            plan.count("memberships", THERE)
        else:
            plan.count("memberships", NEW)
            x, y = member.position_x or 0.0, member.position_y or 0.0
            plan.members.append((member.pipeline_id, member.node_id, x, y))


def groups(
    original: OriginalInstallation,
    existing: Existing,
    plan: Plan,
    pipelines: dict[str, OriginalPipeline],
) -> None:
    members = {(m.pipeline_id, m.node_id) for m in original.members}
    for group in original.groups:
        gid = group.group_id
        if group.pipeline_id not in pipelines:
            plan.count("groups", SKIPPED)
            plan.problems.append(f"group {gid} belongs to no imported pipeline: not imported")
            continue
        if gid in existing.groups:
            plan.count("groups", THERE)
            continue
        plan.count("groups", NEW)
        plan.groups.append(
            {
                "id": gid,
                "pipeline_id": group.pipeline_id,
                "tag": group.tag or "",
                "collapsed": bool(group.collapsed),
                "x": group.pos_x or 0.0,
                "y": group.pos_y or 0.0,
                "width": 400.0 if group.width is None else group.width,
                "height": 300.0 if group.height is None else group.height,
            }
        )
        for node_id, group_id in sorted(original.grouped.items()):
            if group_id != gid:
                continue
            if (group.pipeline_id, node_id) in members:
                plan.grouped.append((group.pipeline_id, node_id, gid))
            else:
                plan.problems.append(
                    f"group {gid}: node {node_id} is not in its pipeline {group.pipeline_id}: "
                    "left out of the group"
                )


def next_slot(taken: set[str]) -> str:
    number = 1
    while f"{number:02d}" in taken:
        number += 1
    return f"{number:02d}"


def edges(
    original: OriginalInstallation,
    existing: Existing,
    plan: Plan,
    nodes: set[str],
    holders: dict[str, list[str]],
) -> None:
    slots: dict[str, set[str]] = defaultdict(set)
    for (_, child), taken in existing.edges.items():
        slots[child].add(taken)
    seen: set[tuple[str, str]] = set()
    for edge in original.edges:
        pair = (edge.parent_id, edge.child_id)
        what = f"edge {edge.parent_id} -> {edge.child_id} (slot {edge.edge_id!r})"
        if pair in seen:
            plan.count("edges", SKIPPED)
            plan.problems.append(f"{what} is in the original twice: imported once")
            continue
        seen.add(pair)
        if edge.child_id not in nodes:
            plan.count("edges", SKIPPED)
            continue  # the child is not imported: already reported with the node
        if edge.parent_id not in nodes:
            plan.count("edges", SKIPPED)
            plan.problems.append(f"{what}: the parent is in no pipeline: not imported")
            continue
        if edge.parent_id == edge.child_id:
            plan.count("edges", SKIPPED)
            plan.problems.append(f"{what} links a node to itself: not imported")
            continue
        if pair in existing.edges:
            plan.count("edges", THERE)
            if edge.edge_id and existing.edges[pair] != edge.edge_id:
                plan.differences.append(
                    f"{what}: slot is {existing.edges[pair]!r} here (kept as it is)"
                )
            continue
        outside = [p for p in holders[edge.child_id] if p not in holders.get(edge.parent_id, [])]
        if outside:
            plan.problems.append(
                f"{what}: the parent is not in pipeline(s) {', '.join(outside)} that hold the "
                "child: imported (the node keeps its input)"
            )
        slot = edge.edge_id or ""
        if not slot or slot in slots[edge.child_id]:
            slot = next_slot(slots[edge.child_id])
            plan.problems.append(
                f"{what}: "
                + ("no slot" if not edge.edge_id else "slot already used by another parent")
                + f": imported on slot {slot!r}"
            )
        slots[edge.child_id].add(slot)
        plan.count("edges", NEW)
        plan.edges.append((edge.parent_id, edge.child_id, slot))


def lineage(
    original: OriginalInstallation,
    existing: Existing,
    plan: Plan,
    pipelines: dict[str, OriginalPipeline],
) -> None:
    parents: dict[str, list[str]] = defaultdict(list)
    for row in original.lineage:
        if row.parent_id and row.parent_id not in parents[row.child_id]:
            parents[row.child_id].append(row.parent_id)
    for child, parent_ids in parents.items():
        # The original does not record how a pipeline was made; several parents mean a merge.
        relation = "merge" if len(parent_ids) > 1 else "branch"
        for parent in parent_ids:
            if child not in pipelines or parent not in pipelines:
                plan.count("lineage", SKIPPED)
            elif (child, parent) in existing.lineage:
                plan.count("lineage", THERE)
            else:
                plan.count("lineage", NEW)
                plan.lineage.append((child, parent, relation))
