"""What an import of an original installation does: pure rules, no I/O.

Given the original's rows, what the target already holds and what was found on disk, decide
which rows to write, how the original's values map onto this fusionpipe's, and every problem
worth telling the admin about. Rows already in the target (same id) are never written again:
their differences are reported instead, which makes a second import incremental.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..errors import Invalid
from ..models import Status
from . import relations
from .original import OriginalInstallation, OriginalNode, OriginalPipeline
from .outcome import NEW, SKIPPED, THERE, Existing, FolderFacts, NodeImport, Plan

_STATUSES = {status.value for status in Status}


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
    relations.members(original, existing, plan, nodes)
    relations.groups(original, existing, plan, pipelines)
    relations.edges(original, existing, plan, nodes, holders)
    relations.lineage(original, existing, plan, pipelines)
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
