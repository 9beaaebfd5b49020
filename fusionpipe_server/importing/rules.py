"""What an import of an original installation does: pure rules, no I/O.

Given the original's rows, what the target already holds and what was found on disk, decide
which rows to write, how the original's values map onto this fusionpipe's, and every problem
worth telling the admin about. Rows already in the target (same id) are never written again:
their differences are reported instead, which makes a second import incremental.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Invalid
from ..models import Status
from .original import OriginalInstallation, OriginalNode, OriginalPipeline

KINDS = ("projects", "pipelines", "nodes", "memberships", "edges", "groups", "lineage")
_STATUSES = {status.value for status in Status}


@dataclass(frozen=True)
class FolderFacts:
    """What is on disk for one original node folder (found under ``--from-data``)."""

    path: Path | None  # the folder, None when missing
    relative: str | None  # relative to the original data folder
    os_owner: str | None  # the user owning the folder
    kind: str | None  # from the entry point in code/, None if there is none


@dataclass
class Existing:
    """What the target database already holds, by id."""

    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipeline_tags: dict[str, str] = field(default_factory=dict)  # tag -> pipeline id
    members: set[tuple[str, str]] = field(default_factory=set)  # (pipeline, node)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)  # (parent, child) -> slot
    groups: set[str] = field(default_factory=set)
    lineage: set[tuple[str, str]] = field(default_factory=set)  # (child, parent)


@dataclass
class NodeImport:
    row: dict[str, Any]  # id, project_id, tag, notes, kind, status, locked, owner, folder
    source: Path | None  # the original folder to copy or adopt; None: make an empty one


@dataclass
class Plan:
    projects: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[NodeImport] = field(default_factory=list)
    members: list[tuple[str, str, float, float]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    grouped: list[tuple[str, str, str]] = field(default_factory=list)  # pipeline, node, group
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # parent, child, slot
    lineage: list[tuple[str, str, str]] = field(default_factory=list)  # child, parent, relation
    problems: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    # kind -> [in the original, to import, already there, skipped]
    counts: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0, 0, 0] for k in KINDS})

    def count(self, kind: str, outcome: int) -> None:
        self.counts[kind][0] += 1
        self.counts[kind][outcome] += 1


NEW, THERE, SKIPPED = 1, 2, 3


def plan_import(
    original: OriginalInstallation,
    existing: Existing,
    facts: dict[str, FolderFacts],
    *,
    default_owner: str,
    in_place: bool,
) -> Plan:
    plan = Plan()
    projects = _projects(original, existing, plan, default_owner)
    pipelines = _pipelines(original, existing, plan, projects, default_owner)
    holders = _holders(original, pipelines)
    nodes = _nodes(original, existing, plan, facts, holders, default_owner, in_place)
    _members(original, existing, plan, nodes)
    _groups(original, existing, plan, pipelines)
    _edges(original, existing, plan, nodes, holders)
    _lineage(original, existing, plan, pipelines)
    return plan


def _differ(plan: Plan, what: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if key in old and old[key] != value:
            plan.differences.append(
                f"{what}: {key} is {old[key]!r} here, {value!r} in the original (kept as it is)"
            )


def _projects(
    original: OriginalInstallation, existing: Existing, plan: Plan, default_owner: str
) -> set[str]:
    for project in original.projects:
        row = {
            "id": project.project_id,
            "tag": project.tag or project.project_id,
            "notes": project.notes or "",
            "owner": project.owner or default_owner,
        }
        if project.project_id in existing.projects:
            plan.count("projects", THERE)
            _differ(
                plan,
                f"project {project.project_id}",
                existing.projects[project.project_id],
                {"tag": row["tag"], "notes": row["notes"]},
            )
        else:
            plan.count("projects", NEW)
            plan.projects.append(row)
    return {project.project_id for project in original.projects}


def _pipelines(
    original: OriginalInstallation,
    existing: Existing,
    plan: Plan,
    projects: set[str],
    default_owner: str,
) -> dict[str, OriginalPipeline]:
    """The pipelines that are (or will be) in the target, by id."""
    kept: dict[str, OriginalPipeline] = {}
    for pipeline in original.pipelines:
        pid = pipeline.pipeline_id
        if pipeline.project_id not in projects:
            plan.count("pipelines", SKIPPED)
            plan.problems.append(
                f"pipeline {pid} ({pipeline.tag!r}) belongs to no project (its project was "
                "deleted in the original): not imported"
            )
            continue
        kept[pid] = pipeline
        tag = pipeline.tag or pid
        if pid in existing.pipelines:
            plan.count("pipelines", THERE)
            _differ(
                plan,
                f"pipeline {pid}",
                existing.pipelines[pid],
                {"tag": tag, "notes": pipeline.notes or "", "locked": bool(pipeline.blocked)},
            )
            continue
        holder = existing.pipeline_tags.get(tag)
        if holder is not None and holder != pid:
            plan.problems.append(
                f"pipeline {pid}: its tag {tag!r} is taken here by {holder}: imported as "
                f"{tag} ({pid})"
            )
            tag = f"{tag} ({pid})"
        plan.count("pipelines", NEW)
        plan.pipelines.append(
            {
                "id": pid,
                "project_id": pipeline.project_id,
                "tag": tag,
                "notes": pipeline.notes or "",
                "owner": pipeline.owner or default_owner,
                "locked": bool(pipeline.blocked),
            }
        )
    return kept


def _holders(
    original: OriginalInstallation, pipelines: dict[str, OriginalPipeline]
) -> dict[str, list[str]]:
    """node id -> the imported pipelines holding it, in id order."""
    holders: dict[str, list[str]] = defaultdict(list)
    for member in original.members:
        if member.pipeline_id in pipelines:
            holders[member.node_id].append(member.pipeline_id)
    return holders


def _status(node: OriginalNode, plan: Plan) -> str:
    if node.status in _STATUSES and node.status != Status.RUNNING.value:
        return str(node.status)
    why = {
        None: "has no status (NULL, left by a pending Ray job)",
        Status.RUNNING.value: "was running in the original, and nothing runs it here",
    }.get(node.status, f"has an unknown status {node.status!r}")
    plan.problems.append(f"node {node.node_id} {why}: imported as failed")
    return Status.FAILED.value


def _nodes(
    original: OriginalInstallation,
    existing: Existing,
    plan: Plan,
    facts: dict[str, FolderFacts],
    holders: dict[str, list[str]],
    default_owner: str,
    in_place: bool,
) -> set[str]:
    """The nodes that are (or will be) in the target."""
    kept: set[str] = set()
    project_of = {p.pipeline_id: p.project_id for p in original.pipelines}
    projects = {p.project_id for p in original.projects}
    to_import = [n for n in original.nodes if holders.get(n.node_id)]
    found = [n for n in to_import if facts.get(n.node_id, _MISSING).path is not None]
    fresh = [n for n in to_import if n.node_id not in existing.nodes]
    if fresh and not found:
        raise Invalid(
            f"none of the {len(to_import)} node folders of the original database is in the "
            "--from-data folder: give the original's FUSIONPIPE_DATA_PATH"
        )
    for node in original.nodes:
        nid = node.node_id
        if not holders.get(nid):
            plan.count("nodes", SKIPPED)
            plan.problems.append(
                f"node {nid} ({node.node_tag!r}) is in no pipeline (deleted in the original): "
                "not imported"
            )
            continue
        kept.add(nid)
        status = _status(node, plan)
        tag = node.node_tag or nid
        if nid in existing.nodes:
            plan.count("nodes", THERE)
            _differ(
                plan,
                f"node {nid}",
                existing.nodes[nid],
                {
                    "tag": tag,
                    "notes": node.notes or "",
                    "status": status,
                    "locked": bool(node.blocked),
                },
            )
            continue
        plan.count("nodes", NEW)
        fact = facts.get(nid, _MISSING)
        project = node.project_id if node.project_id in projects else None
        project = project or str(project_of[holders[nid][0]])
        if fact.path is None:
            plan.problems.append(
                f"node {nid} ({tag!r}): its folder {node.folder_path!r} is missing: imported "
                "with an empty folder"
            )
        elif fact.kind is None:
            plan.problems.append(
                f"node {nid} ({tag!r}): no main.py, main.ipynb, main.m or main.sh in "
                f"{fact.path}/code: imported as a python node that will fail until it has one"
            )
        relative = fact.relative if in_place and fact.relative else f"{project}/{nid}"
        plan.nodes.append(
            NodeImport(
                {
                    "id": nid,
                    "project_id": project,
                    "tag": tag,
                    "notes": node.notes or "",
                    "kind": fact.kind or "python",
                    "status": status,
                    "locked": bool(node.blocked),
                    "owner": node.owner or fact.os_owner or default_owner,
                    "folder": relative,
                },
                fact.path,
            )
        )
    return kept


_MISSING = FolderFacts(None, None, None, None)


def _members(
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


def _groups(
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


def _next_slot(taken: set[str]) -> str:
    number = 1
    while f"{number:02d}" in taken:
        number += 1
    return f"{number:02d}"


def _edges(
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
            slot = _next_slot(slots[edge.child_id])
            plan.problems.append(
                f"{what}: "
                + ("no slot" if not edge.edge_id else "slot already used by another parent")
                + f": imported on slot {slot!r}"
            )
        slots[edge.child_id].add(slot)
        plan.count("edges", NEW)
        plan.edges.append((edge.parent_id, edge.child_id, slot))


def _lineage(
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
