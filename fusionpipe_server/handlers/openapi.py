"""The OpenAPI document of the REST API, served at ``fusionpipe/api/openapi.json``.

Written by hand next to the handler table; a test checks that both list the same routes and verbs.
"""

from __future__ import annotations

from typing import Any

from tornado import web

from .. import __version__
from .base import FusionpipeHandler

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_IDS = {"type": "array", "items": _STR}
_XY = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}
_SIZE = {
    "type": "object",
    "properties": {"width": {"type": "number"}, "height": {"type": "number"}},
}
_ERRORS = {
    "400": "bad input: the message names the field",
    "404": "unknown id",
    "409": "conflict: cycle, locked, referenced, duplicate tag, already running",
}


def _op(summary: str, ok: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    responses = {ok: {"description": "success"}}
    responses.update({code: {"$ref": f"#/components/responses/E{code}"} for code in _ERRORS})
    operation: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "properties": body}}},
        }
    return operation


_ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}


def _zip_answer(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation whose success answers with a zip instead of JSON."""
    operation["responses"]["200"]["content"] = _ZIP
    return operation


_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/projects": {
        "get": _op("List projects", "200"),
        "post": _op("Create a project", "201", {"tag": _STR, "notes": _STR}),
    },
    "/projects/{project_id}": {
        "get": _op("One project", "200"),
        "patch": _op("Change tag or notes", "200", {"tag": _STR, "notes": _STR}),
        "delete": _op(
            "Delete a project (cascade=true also deletes its pipelines)",
            "204",
            parameters=[{"name": "cascade", "in": "query", "schema": _BOOL}],
        ),
    },
    "/projects/{project_id}/graph": {
        "get": _op("The project's pipelines and their lineage", "200"),
    },
    "/pipelines": {
        "get": _op(
            "List pipelines",
            "200",
            parameters=[{"name": "project_id", "in": "query", "schema": _STR}],
        ),
        "post": _op("Create a pipeline", "201", {"project_id": _STR, "tag": _STR, "notes": _STR}),
    },
    "/pipelines/{pipeline_id}": {
        "get": _op("The whole graph: nodes, edges, groups", "200"),
        "patch": _op(
            "Tag, notes, move to a project, lock",
            "200",
            {"tag": _STR, "notes": _STR, "project_id": _STR, "locked": _BOOL},
        ),
        "delete": _op("Delete a pipeline and the nodes only it holds", "204"),
    },
    "/pipelines/{pipeline_id}/positions": {
        "post": _op(
            "Save node positions after a drag",
            "204",
            {"positions": {"type": "object", "additionalProperties": _XY}},
        ),
    },
    "/pipelines/{pipeline_id}/nodes": {
        "post": _op(
            "Create a node",
            "201",
            {
                "tag": _STR,
                "kind": {"enum": ["python", "notebook", "matlab", "shell"]},
                "position": _XY,
            },
        ),
    },
    "/pipelines/{pipeline_id}/nodes/{node_id}": {
        "patch": _op(
            "Tag, notes, position, lock",
            "200",
            {"tag": _STR, "notes": _STR, "position": _XY, "locked": _BOOL},
        ),
        "delete": _op("Remove a node from the pipeline", "204"),
    },
    "/pipelines/{pipeline_id}/status": {
        "post": _op(
            "Set nodes completed or staledata by hand",
            "204",
            {"node_ids": _IDS, "status": {"enum": ["completed", "staledata"]}},
        ),
    },
    "/pipelines/{pipeline_id}/clear-outputs": {
        "post": _op("Empty the data folder of nodes", "204", {"node_ids": _IDS}),
    },
    "/pipelines/{pipeline_id}/edges": {
        "post": _op("Connect parent to child", "201", {"source": _STR, "target": _STR}),
    },
    "/pipelines/{pipeline_id}/edges/{edge_id}": {
        "delete": _op("Delete an edge", "204"),
    },
    "/pipelines/{pipeline_id}/groups": {
        "post": _op(
            "Group nodes",
            "201",
            {"node_ids": _IDS, "tag": _STR, "position": _XY, "size": _SIZE},
        ),
    },
    "/pipelines/{pipeline_id}/duplicate-nodes": {
        "post": _op(
            "Copy nodes into this or another pipeline (edges and slots kept)",
            "201",
            {"node_ids": _IDS, "target_pipeline_id": _STR, "with_data": _BOOL},
        ),
    },
    "/pipelines/{pipeline_id}/reference-nodes": {
        "post": _op(
            "Share nodes with another pipeline (read-only there and here)",
            "204",
            {"node_ids": _IDS, "target_pipeline_id": _STR},
        ),
    },
    "/pipelines/{pipeline_id}/detach": {
        "post": _op("Private copies of the shared nodes below a node", "201", {"node_id": _STR}),
    },
    "/pipelines/{pipeline_id}/branch": {
        "post": _op(
            "New pipeline: copies from a node down, upstream shared", "201", {"node_id": _STR}
        ),
    },
    "/pipelines/{pipeline_id}/duplicate": {
        "post": _op("New pipeline: a full copy", "201", {"with_data": _BOOL}),
    },
    "/pipelines/{pipeline_id}/export": {
        "get": _zip_answer(
            _op("The pipeline as a zip: pipeline.yaml and each node's code/ (no data)", "200")
        ),
    },
    "/projects/{project_id}/import": {
        "post": _op(
            "A new pipeline, with new ids, from a zip an export made (the body is the zip)",
            "201",
            requestBody={"required": True, "content": _ZIP},
            parameters=[{"name": "tag", "in": "query", "schema": _STR}],
        ),
    },
    "/pipelines/merge": {
        "post": _op("New pipeline holding every node of several", "201", {"pipeline_ids": _IDS}),
    },
    "/groups/{group_id}": {
        "patch": _op(
            "Rename, collapse, move or resize a group",
            "200",
            {"tag": _STR, "collapsed": _BOOL, "position": _XY, "size": _SIZE},
        ),
        "delete": _op("Delete a group (its nodes stay)", "204"),
    },
    "/nodes/{node_id}": {
        "get": _op("One node and the pipelines holding it", "200"),
    },
    "/nodes/{node_id}/parameters": {
        "get": _op("node_parameters.yaml as text", "200"),
        "put": _op("Save node_parameters.yaml (validated)", "200", {"content": _STR}),
    },
    "/pipelines/{pipeline_id}/runs": {
        "post": _op(
            "Start a run: whole pipeline, until a node, or selected nodes; answers at once",
            "202",
            {"node_ids": _IDS, "until": _STR},
        ),
        "get": _op(
            "Run history of the pipeline, newest first: a page of runs and the total",
            "200",
            parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
                {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"enum": ["queued", "running", "completed", "failed", "cancelled"]},
                },
            ],
        ),
    },
    "/runs/{run_id}": {
        "get": _op("One run with each node's outcome and its progress (done, total, eta)", "200")
    },
    "/runs/{run_id}/cancel": {"post": _op("Cancel a run (kills its running nodes)", "200")},
    "/pipelines/{pipeline_id}/nodes/{node_id}/kill": {
        "post": _op("Kill a running node and its whole process tree", "202"),
    },
    "/nodes/{node_id}/runs": {
        "get": _op(
            "Run history of a node, newest first",
            "200",
            parameters=[{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        ),
    },
    "/nodes/{node_id}/outputs": {
        "get": _op("The files of data/ and reports/ (the first 200), with sizes and kinds", "200"),
    },
    "/nodes/{node_id}/outputs/{path}": {
        "get": _op(
            "One output file (path relative to the node folder, inside data/ or reports/); "
            "head=N for the first lines of a text file",
            "200",
            parameters=[{"name": "head", "in": "query", "schema": {"type": "integer"}}],
        ),
    },
    "/whoami": {"get": _op("Who the caller is, as fusionpipe records users", "200")},
    "/nodes/{node_id}/log": {
        "get": _op(
            "The log of the node's latest run, or of run_id; tail=N for the last lines",
            "200",
            parameters=[
                {"name": "run_id", "in": "query", "schema": _STR},
                {"name": "tail", "in": "query", "schema": {"type": "integer"}},
            ],
        ),
    },
    "/nodes/{node_id}/provenance": {
        "get": _op(
            "What made the node's outputs: its run, fingerprint and parts, back to the roots",
            "200",
        ),
    },
    "/examples": {
        "post": _op("Create the example pipeline (make data, fit, plot, report)", "201"),
    },
    "/events": {
        "get": _op(
            "Websocket: one JSON message per change (statuses, runs, graph), from every user",
            "101",
        ),
    },
    "/openapi.json": {
        "get": _op("This document", "200"),
    },
}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, operations in _PATHS.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": _STR} for name in names
        ]
        paths[path] = {**({"parameters": parameters} if parameters else {}), **operations}
    return {
        "openapi": "3.1.0",
        "info": {"title": "fusionpipe", "version": __version__},
        "servers": [{"url": "/fusionpipe/api"}],
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "responses": {
                f"E{code}": {
                    "description": description,
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"message": _STR}}
                        }
                    },
                }
                for code, description in _ERRORS.items()
            },
        },
    }


class OpenAPIHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self) -> None:
        self.reply(document())
