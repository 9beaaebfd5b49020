"""OpenAPI links: which answer gives the ids another operation takes.

They document how the API is walked (a pipeline's graph names its nodes, edges and groups; a
run its nodes; the trash its items), and schemathesis' stateful phase follows them, so that it
calls every operation on objects that exist instead of made-up ids.
"""

from __future__ import annotations

from typing import Any

Link = dict[str, Any]

_BODY = "$response.body#"


def _link(operation_id: str, path: dict[str, str] | None = None, **more: Any) -> Link:
    """A link to ``operation_id`` with these path parameters; ``query`` and ``body`` too."""
    parameters = {f"path.{name}": value for name, value in (path or {}).items()}
    parameters.update({f"query.{name}": value for name, value in more.pop("query", {}).items()})
    link: Link = {"operationId": operation_id}
    if parameters:
        link["parameters"] = parameters
    if "body" in more:
        link["requestBody"] = more.pop("body")
        # The body is the link's, not merged into a generated one: a generated list of ids
        # would keep made-up ids after the real one.
        link["x-schemathesis"] = {"merge_body": False}
    assert not more, more
    return link


def _project(at: str) -> dict[str, Link]:
    """What can be done with the project at ``at`` (a JSON pointer into the answer). Not
    deleteProject: its cascade takes the project's pipelines along, which schemathesis'
    ensure_resource_availability check takes for pipelines lost after they were made."""
    project = {"project_id": f"{at}/id"}
    return {
        "GetProject": _link("getProject", project),
        "UpdateProject": _link("updateProject", project),
        "ProjectGraph": _link("projectGraph", project),
        "CreatePipeline": _link("createPipeline", body={"project_id": f"{at}/id"}),
        "ListPipelines": _link("listPipelines", query={"project_id": f"{at}/id"}),
        "ImportPipeline": _link("importPipeline", project),
    }


def _pipeline(at: str) -> dict[str, Link]:
    """What can be done with the pipeline at ``at``."""
    pipeline = {"pipeline_id": f"{at}/id"}
    return {
        "GetPipeline": _link("getPipeline", pipeline),
        "UpdatePipeline": _link("updatePipeline", pipeline),
        "DeletePipeline": _link("deletePipeline", pipeline),
        "CreateNode": _link("createNode", pipeline),
        "SavePositions": _link("savePositions", pipeline, body={"positions": {}}),
        "StartRun": _link("startRun", pipeline, body={}),
        "PipelineRuns": _link("pipelineRuns", pipeline),
        "ExportPipeline": _link("exportPipeline", pipeline),
        "DuplicatePipeline": _link("duplicatePipeline", pipeline),
        "GetProject": _link("getProject", {"project_id": f"{at}/project_id"}),
    }


def _to_graph(at: str) -> dict[str, Link]:
    """The graph of the pipeline at ``at``, from which everything in it is reached: fewer
    links keep the stateful phase on the walks that matter."""
    return {"GetPipeline": _link("getPipeline", {"pipeline_id": f"{at}/id"})}


def _node(pipeline: str, node: str) -> dict[str, Link]:
    """What can be done with the node ``node`` of the pipeline ``pipeline`` (expressions)."""
    both = {"pipeline_id": pipeline, "node_id": node}
    alone = {"node_id": node}
    return {
        "GetNode": _link("getNode", alone),
        "UpdateNode": _link("updateNode", both),
        "DeleteNode": _link("deleteNode", both),
        "KillNode": _link("killNode", both),
        "GetParameters": _link("getParameters", alone),
        "SaveParameters": _link("saveParameters", alone, body={"content": "x: 1\n"}),
        "NodeLog": _link("nodeLog", alone),
        "NodeRuns": _link("nodeRuns", alone),
        "ListOutputs": _link("listOutputs", alone),
        "NodeItems": _link("nodeItems", alone),
        "NodeMetrics": _link("nodeMetrics", alone),
        "Provenance": _link("provenance", alone),
        "SetStatus": _link(
            "setStatus",
            {"pipeline_id": pipeline},
            body={"node_ids": [node], "status": "completed"},
        ),
        "ClearOutputs": _link("clearOutputs", {"pipeline_id": pipeline}, body={"node_ids": [node]}),
        "CreateGroup": _link("createGroup", {"pipeline_id": pipeline}, body={"node_ids": [node]}),
        "RunNode": _link("startRun", {"pipeline_id": pipeline}, body={"node_ids": [node]}),
        "Branch": _link("branchPipeline", {"pipeline_id": pipeline}, body={"node_id": node}),
        # In a branch, the nodes above the one branched from are shared: detach copies them.
        "Detach": _link("detach", {"pipeline_id": pipeline}, body={"node_id": node}),
        "DuplicateNodes": _link(
            "duplicateNodes",
            {"pipeline_id": pipeline},
            body={"node_ids": [node], "target_pipeline_id": pipeline},
        ),
    }


def _graph() -> dict[str, Link]:
    """A pipeline's graph: its nodes, edges and groups, and two of its nodes to connect."""
    pipeline = f"{_BODY}/id"
    return {
        **_pipeline(_BODY),
        **_node(pipeline, f"{_BODY}/nodes/0/id"),
        "Connect": _link(
            "connect",
            {"pipeline_id": pipeline},
            body={"source": f"{_BODY}/nodes/0/id", "target": f"{_BODY}/nodes/3/id"},
        ),
        "DeleteEdge": _link(
            "deleteEdge", {"pipeline_id": pipeline, "edge_id": f"{_BODY}/edges/0/id"}
        ),
        "UpdateGroup": _link("updateGroup", {"group_id": f"{_BODY}/groups/0/id"}),
        "DeleteGroup": _link("deleteGroup", {"group_id": f"{_BODY}/groups/0/id"}),
        # Branching from the last node shares the nodes above it with the branch: detach there.
        "BranchLast": _link(
            "branchPipeline", {"pipeline_id": pipeline}, body={"node_id": f"{_BODY}/nodes/3/id"}
        ),
    }


def _run(at: str) -> dict[str, Link]:
    run = {"run_id": f"{at}/id"}
    return {
        "GetRun": _link("getRun", run),
        "CancelRun": _link("cancelRun", run),
        "PipelineRuns": _link("pipelineRuns", {"pipeline_id": f"{at}/pipeline_id"}),
        "GetPipeline": _link("getPipeline", {"pipeline_id": f"{at}/pipeline_id"}),
        "NodeLog": _link(
            "nodeLog", {"node_id": f"{at}/nodes/0/node_id"}, query={"run_id": f"{at}/id"}
        ),
        "ListOutputs": _link("listOutputs", {"node_id": f"{at}/nodes/0/node_id"}),
    }


def _trash(at: str) -> dict[str, Link]:
    # No link to restoreTrash: a restored object is back under the id it was deleted with,
    # which schemathesis' use_after_free check takes for a delete that did not delete.
    return {"PurgeTrash": _link("purgeTrash", {"trash_id": f"{at}/id"})}


# After a delete: the trash holds what was deleted.
_TO_TRASH = {"ListTrash": _link("listTrash")}
# A new pipeline made from the one in the request's path.
_PIPELINE_MADE = {
    **_pipeline(_BODY),
    "Merge": _link(
        "mergePipelines",
        body={"pipeline_ids": ["$request.path.pipeline_id", f"{_BODY}/id"]},
    ),
}

LINKS: dict[tuple[str, str], dict[str, Link]] = {
    ("/projects", "get"): _project(f"{_BODY}/projects/0"),
    ("/projects", "post"): _project(_BODY),
    ("/projects/{project_id}", "get"): _project(_BODY),
    ("/projects/{project_id}", "patch"): _project(_BODY),
    ("/projects/{project_id}", "delete"): _TO_TRASH,
    ("/projects/{project_id}/graph", "get"): {
        **_to_graph(f"{_BODY}/pipelines/0"),
        "Merge": _link(
            "mergePipelines",
            body={"pipeline_ids": [f"{_BODY}/pipelines/0/id", f"{_BODY}/pipelines/1/id"]},
        ),
    },
    ("/projects/{project_id}/import", "post"): _to_graph(_BODY),
    ("/pipelines", "get"): _to_graph(f"{_BODY}/pipelines/0"),
    ("/pipelines", "post"): _pipeline(_BODY),
    ("/pipelines/merge", "post"): _to_graph(_BODY),
    # The example's graph has nodes, edges and outputs to come: everything is reached from it.
    ("/examples", "post"): _to_graph(_BODY),
    ("/pipelines/{pipeline_id}", "get"): _graph(),
    ("/pipelines/{pipeline_id}", "patch"): _to_graph(_BODY),
    ("/pipelines/{pipeline_id}", "delete"): _TO_TRASH,
    ("/pipelines/{pipeline_id}/branch", "post"): {
        **_to_graph(_BODY),
        # The node branched from is copied into the branch; sharing it back is allowed.
        "ReferenceNodes": _link(
            "referenceNodes",
            {"pipeline_id": "$request.path.pipeline_id"},
            body={
                "node_ids": ["$request.body#/node_id"],
                "target_pipeline_id": f"{_BODY}/id",
            },
        ),
    },
    ("/pipelines/{pipeline_id}/duplicate", "post"): _PIPELINE_MADE,
    ("/pipelines/{pipeline_id}/reference-nodes", "post"): {
        # A node now shared by two pipelines: detach makes the target's copy its own again.
        "Detach": _link(
            "detach",
            {"pipeline_id": "$request.body#/target_pipeline_id"},
            body={"node_id": "$request.body#/node_ids/0"},
        ),
        "GetTarget": _link("getPipeline", {"pipeline_id": "$request.body#/target_pipeline_id"}),
    },
    ("/pipelines/{pipeline_id}/duplicate-nodes", "post"): {
        "GetTarget": _link("getPipeline", {"pipeline_id": "$request.body#/target_pipeline_id"}),
    },
    ("/pipelines/{pipeline_id}/detach", "post"): {
        "GetPipeline": _link("getPipeline", {"pipeline_id": "$request.path.pipeline_id"}),
    },
    ("/pipelines/{pipeline_id}/nodes", "post"): _node("$request.path.pipeline_id", f"{_BODY}/id"),
    ("/pipelines/{pipeline_id}/nodes/{node_id}", "patch"): {
        "GetNode": _link("getNode", {"node_id": f"{_BODY}/id"}),
    },
    ("/pipelines/{pipeline_id}/nodes/{node_id}", "delete"): _TO_TRASH,
    ("/pipelines/{pipeline_id}/edges", "post"): {
        "DeleteEdge": _link(
            "deleteEdge", {"pipeline_id": "$request.path.pipeline_id", "edge_id": f"{_BODY}/id"}
        ),
    },
    ("/pipelines/{pipeline_id}/groups", "post"): {
        "UpdateGroup": _link("updateGroup", {"group_id": f"{_BODY}/id"}),
        "DeleteGroup": _link("deleteGroup", {"group_id": f"{_BODY}/id"}),
    },
    ("/groups/{group_id}", "patch"): {
        "DeleteGroup": _link("deleteGroup", {"group_id": f"{_BODY}/id"}),
    },
    ("/nodes/{node_id}", "get"): {
        "GetPipeline": _link("getPipeline", {"pipeline_id": f"{_BODY}/pipelines/0"}),
    },
    ("/nodes/{node_id}/outputs", "get"): {
        "GetOutput": _link(
            "getOutput",
            {"node_id": f"{_BODY}/node_id", "path": f"{_BODY}/entries/0/path"},
        ),
    },
    ("/pipelines/{pipeline_id}/runs", "post"): _run(_BODY),
    ("/pipelines/{pipeline_id}/runs", "get"): _run(f"{_BODY}/runs/0"),
    ("/nodes/{node_id}/runs", "get"): _run(f"{_BODY}/runs/0"),
    ("/runs/{run_id}", "get"): _run(_BODY),
    ("/runs/{run_id}/cancel", "post"): _run(_BODY),
    ("/trash", "get"): _trash(f"{_BODY}/items/0"),
    ("/trash", "delete"): {"ListTrash": _link("listTrash")},
}
