"""The operations on the graph: projects, pipelines, and the nodes, edges, groups and copies
inside a pipeline."""

from __future__ import annotations

from typing import Any

from .api_operations import BINARY, answer_with, op, zip_body
from .api_schemas import (
    BOOL,
    ID,
    IDS,
    KIND,
    NOTES,
    SEVERAL_IDS,
    SIZE_IN,
    TAG,
    XY_IN,
    listing,
    ref,
)

_PIPELINE = ref("ManagedPipeline")
_ID_MAP = ref("IdMap")

GRAPH_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/projects": {
        "get": op("listProjects", "List projects", "200", listing("projects", "ManagedProject")),
        "post": op(
            "createProject",
            "Create a project",
            "201",
            ref("ManagedProject"),
            {"tag": TAG, "notes": NOTES},
        ),
    },
    "/projects/{project_id}": {
        "get": op("getProject", "One project", "200", ref("ManagedProject")),
        "patch": op(
            "updateProject",
            "Change tag or notes",
            "200",
            ref("ManagedProject"),
            {"tag": TAG, "notes": NOTES},
        ),
        "delete": op(
            "deleteProject",
            "Delete a project (cascade=true also deletes its pipelines)",
            "204",
            query={"cascade": BOOL},
        ),
    },
    "/projects/{project_id}/graph": {
        "get": op(
            "projectGraph",
            "The project's pipelines and their lineage",
            "200",
            ref("ProjectGraph"),
        ),
    },
    "/pipelines": {
        "get": op(
            "listPipelines",
            "List pipelines",
            "200",
            listing("pipelines", "ManagedPipeline"),
            query={"project_id": ID},
        ),
        "post": op(
            "createPipeline",
            "Create a pipeline",
            "201",
            _PIPELINE,
            {"project_id": ID, "tag": TAG, "notes": NOTES},
            required=("project_id",),
        ),
    },
    "/pipelines/{pipeline_id}": {
        "get": op(
            "getPipeline", "The whole graph: nodes, edges, groups", "200", ref("PipelineGraph")
        ),
        "patch": op(
            "updatePipeline",
            "Tag, notes, move to a project, lock",
            "200",
            _PIPELINE,
            {"tag": TAG, "notes": NOTES, "project_id": ID, "locked": BOOL},
        ),
        "delete": op("deletePipeline", "Delete a pipeline and the nodes only it holds", "204"),
    },
    "/pipelines/{pipeline_id}/positions": {
        "post": op(
            "savePositions",
            "Save node positions after a drag or an auto layout, with the groups' boxes that "
            "moved: one edit on the undo stack",
            "204",
            body={
                "positions": {
                    "type": "object",
                    "propertyNames": ID,
                    "additionalProperties": XY_IN,
                },
                "groups": {
                    "type": "object",
                    "propertyNames": ID,
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"position": XY_IN, "size": SIZE_IN},
                        "required": ["position"],
                    },
                },
                "auto_layout": BOOL,
            },
            required=("positions",),
        ),
    },
    "/pipelines/{pipeline_id}/nodes": {
        "post": op(
            "createNode",
            "Create a node",
            "201",
            ref("Node"),
            {"tag": TAG, "kind": KIND, "position": XY_IN},
        ),
    },
    "/pipelines/{pipeline_id}/nodes/{node_id}": {
        "patch": op(
            "updateNode",
            "Tag, notes, position, lock",
            "200",
            ref("Node"),
            {"tag": TAG, "notes": NOTES, "position": XY_IN, "locked": BOOL},
        ),
        "delete": op("deleteNode", "Remove a node from the pipeline", "204"),
    },
    "/pipelines/{pipeline_id}/status": {
        "post": op(
            "setStatus",
            "Set nodes completed or staledata by hand",
            "204",
            body={
                "node_ids": IDS,
                "status": {"type": "string", "enum": ["completed", "staledata"]},
            },
            required=("node_ids", "status"),
        ),
    },
    "/pipelines/{pipeline_id}/clear-outputs": {
        "post": op(
            "clearOutputs",
            "Empty the data folder of nodes",
            "204",
            body={"node_ids": IDS},
            required=("node_ids",),
        ),
    },
    "/pipelines/{pipeline_id}/edges": {
        "post": op(
            "connect",
            "Connect parent to child",
            "201",
            ref("Edge"),
            {"source": ID, "target": ID},
            required=("source", "target"),
        ),
    },
    "/pipelines/{pipeline_id}/edges/{edge_id}": {
        "delete": op("deleteEdge", "Delete an edge", "204"),
    },
    "/pipelines/{pipeline_id}/groups": {
        "post": op(
            "createGroup",
            "Group nodes",
            "201",
            ref("Group"),
            {"node_ids": IDS, "tag": TAG, "position": XY_IN, "size": SIZE_IN},
            required=("node_ids",),
        ),
    },
    "/pipelines/{pipeline_id}/duplicate-nodes": {
        "post": op(
            "duplicateNodes",
            "Copy nodes into this or another pipeline (edges and slots kept)",
            "201",
            _ID_MAP,
            {"node_ids": IDS, "target_pipeline_id": ID, "with_data": BOOL},
            required=("node_ids", "target_pipeline_id"),
        ),
    },
    "/pipelines/{pipeline_id}/reference-nodes": {
        "post": op(
            "referenceNodes",
            "Share nodes with another pipeline (read-only there and here)",
            "204",
            body={"node_ids": IDS, "target_pipeline_id": ID},
            required=("node_ids", "target_pipeline_id"),
        ),
    },
    "/pipelines/{pipeline_id}/detach": {
        "post": op(
            "detach",
            "Private copies of the shared nodes below a node",
            "201",
            _ID_MAP,
            {"node_id": ID},
            required=("node_id",),
        ),
    },
    "/pipelines/{pipeline_id}/branch": {
        "post": op(
            "branchPipeline",
            "New pipeline: copies from a node down, upstream shared",
            "201",
            _PIPELINE,
            {"node_id": ID},
            required=("node_id",),
        ),
    },
    "/pipelines/{pipeline_id}/duplicate": {
        "post": op(
            "duplicatePipeline",
            "New pipeline: a full copy",
            "201",
            _PIPELINE,
            {"with_data": BOOL},
        ),
    },
    "/pipelines/{pipeline_id}/export": {
        "get": answer_with(
            op(
                "exportPipeline",
                "The pipeline as a zip: pipeline.yaml and each node's code/ (no data)",
                "200",
            ),
            {"application/zip": BINARY},
        ),
    },
    "/projects/{project_id}/import": {
        "post": zip_body(
            op(
                "importPipeline",
                "A new pipeline, with new ids, from a zip an export made (the body is the zip)",
                "201",
                _PIPELINE,
                query={"tag": TAG},
            )
        ),
    },
    "/pipelines/merge": {
        "post": op(
            "mergePipelines",
            "New pipeline holding every node of several",
            "201",
            _PIPELINE,
            {"pipeline_ids": SEVERAL_IDS},
            required=("pipeline_ids",),
        ),
    },
    "/pipelines/{pipeline_id}/undo": {
        "get": op(
            "undoStacks",
            "What your next undo and redo of a graph edit in this pipeline would do",
            "200",
            ref("UndoStacks"),
        ),
        "post": op(
            "undo",
            "Undo your last graph edit in this pipeline (409 when a later change of the same "
            "object, or a lock, stands in the way: the message names it)",
            "200",
            ref("UndoDone"),
        ),
    },
    "/pipelines/{pipeline_id}/redo": {
        "post": op(
            "redo",
            "Redo your last undone graph edit in this pipeline (a new edit empties the redo stack)",
            "200",
            ref("UndoDone"),
        ),
    },
    "/groups/{group_id}": {
        "patch": op(
            "updateGroup",
            "Rename, collapse, move or resize a group",
            "200",
            ref("Group"),
            {"tag": TAG, "collapsed": BOOL, "position": XY_IN, "size": SIZE_IN},
        ),
        "delete": op("deleteGroup", "Delete a group (its nodes stay)", "204"),
    },
}
