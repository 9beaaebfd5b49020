"""The OpenAPI document of the REST API, served at ``fusionpipe/api/openapi.json``.

It is also the API's input contract: handlers read bodies and query arguments only through
``validation.py`` against these schemas, and the handler table is built from these paths; a
test checks that both list the same routes and verbs.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..models import RUN_STATUSES
from ..service.runs.history import MAX_PAGE

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
# Every id fusionpipe makes has this shape; so do the path segments the routes accept.
ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
_ID = {
    "type": "string",
    "pattern": ID_PATTERN,
    "description": "must be an id (letters, digits, _ and -)",
}
_IDS = {"type": "array", "items": _ID, "minItems": 1, "maxItems": 10_000}
_SEVERAL_IDS = {**_IDS, "minItems": 2, "uniqueItems": True}
# Text PostgreSQL can store: no NUL, and (for tags) something besides spaces.
_TAG = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
    "description": "must not be empty",
}
_NOTES = {"type": "string", "maxLength": 100_000, "pattern": "^[^\\u0000]*$"}
_COORDINATE = {"type": "number", "minimum": -1e9, "maximum": 1e9}
_LENGTH = {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6}
_XY = {
    "type": "object",
    "properties": {"x": _COORDINATE, "y": _COORDINATE},
    "required": ["x", "y"],
}
_SIZE = {
    "type": "object",
    "properties": {"width": _LENGTH, "height": _LENGTH},
    "required": ["width", "height"],
}
_KIND = {"type": "string", "enum": ["python", "notebook", "matlab", "shell"]}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}
# Path parameters are ids, but for an output's path below the node folder (slashes allowed).
_PATH_PARAMETERS = {
    "path": {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": "^[^\\u0000]+$"}
}
_TAIL = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
_ERRORS = {
    "400": "bad input: the message names the field",
    "401": "no credentials: log in or send Authorization: token <token>",
    "403": "not allowed: only the owner or an admin may delete, move or lock it (the "
    "message names them); or not authorized for this action; or a browser write without the "
    "XSRF token",
    "404": "unknown id",
    "409": "conflict: cycle, locked, referenced, duplicate tag, already running",
    "503": "the database cannot be reached right now",
}


def _op(
    summary: str,
    ok: str,
    body: dict[str, Any] | None = None,
    *,
    required: tuple[str, ...] = (),
    exclusive: tuple[str, ...] = (),
    query: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": "success"}}
    responses.update({code: {"$ref": f"#/components/responses/E{code}"} for code in _ERRORS})
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if query:
        operation["parameters"] = [
            {"name": name, "in": "query", "schema": schema} for name, schema in query.items()
        ]
    if body is not None:
        schema: dict[str, Any] = {"type": "object", "properties": body}
        if required:
            schema["required"] = list(required)
        if exclusive:
            schema["not"] = {"required": list(exclusive)}
        operation["requestBody"] = {
            # With nothing required, an empty body is the same as {}.
            "required": bool(required),
            "content": {"application/json": {"schema": schema}},
        }
    return operation


_ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}


def _zip_body(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation whose request body is a zip instead of JSON. Declared as plain bytes: the
    server reads the body whatever its Content-Type, and OpenAPI tools know no zip media type."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    operation["requestBody"] = {"required": True, "content": {"application/octet-stream": binary}}
    return operation


def _zip_answer(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation whose success answers with a zip instead of JSON."""
    operation["responses"]["200"]["content"] = _ZIP
    return operation


_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/projects": {
        "get": _op("List projects", "200"),
        "post": _op("Create a project", "201", {"tag": _TAG, "notes": _NOTES}),
    },
    "/projects/{project_id}": {
        "get": _op("One project", "200"),
        "patch": _op("Change tag or notes", "200", {"tag": _TAG, "notes": _NOTES}),
        "delete": _op(
            "Delete a project (cascade=true also deletes its pipelines)",
            "204",
            query={"cascade": _BOOL},
        ),
    },
    "/projects/{project_id}/graph": {
        "get": _op("The project's pipelines and their lineage", "200"),
    },
    "/pipelines": {
        "get": _op(
            "List pipelines",
            "200",
            query={"project_id": _ID},
        ),
        "post": _op(
            "Create a pipeline",
            "201",
            {"project_id": _ID, "tag": _TAG, "notes": _NOTES},
            required=("project_id",),
        ),
    },
    "/pipelines/{pipeline_id}": {
        "get": _op("The whole graph: nodes, edges, groups", "200"),
        "patch": _op(
            "Tag, notes, move to a project, lock",
            "200",
            {"tag": _TAG, "notes": _NOTES, "project_id": _ID, "locked": _BOOL},
        ),
        "delete": _op("Delete a pipeline and the nodes only it holds", "204"),
    },
    "/pipelines/{pipeline_id}/positions": {
        "post": _op(
            "Save node positions after a drag",
            "204",
            {
                "positions": {
                    "type": "object",
                    "propertyNames": _ID,
                    "additionalProperties": _XY,
                }
            },
            required=("positions",),
        ),
    },
    "/pipelines/{pipeline_id}/nodes": {
        "post": _op(
            "Create a node",
            "201",
            {
                "tag": _TAG,
                "kind": _KIND,
                "position": _XY,
            },
        ),
    },
    "/pipelines/{pipeline_id}/nodes/{node_id}": {
        "patch": _op(
            "Tag, notes, position, lock",
            "200",
            {"tag": _TAG, "notes": _NOTES, "position": _XY, "locked": _BOOL},
        ),
        "delete": _op("Remove a node from the pipeline", "204"),
    },
    "/pipelines/{pipeline_id}/status": {
        "post": _op(
            "Set nodes completed or staledata by hand",
            "204",
            {"node_ids": _IDS, "status": {"type": "string", "enum": ["completed", "staledata"]}},
            required=("node_ids", "status"),
        ),
    },
    "/pipelines/{pipeline_id}/clear-outputs": {
        "post": _op(
            "Empty the data folder of nodes", "204", {"node_ids": _IDS}, required=("node_ids",)
        ),
    },
    "/pipelines/{pipeline_id}/edges": {
        "post": _op(
            "Connect parent to child",
            "201",
            {"source": _ID, "target": _ID},
            required=("source", "target"),
        ),
    },
    "/pipelines/{pipeline_id}/edges/{edge_id}": {
        "delete": _op("Delete an edge", "204"),
    },
    "/pipelines/{pipeline_id}/groups": {
        "post": _op(
            "Group nodes",
            "201",
            {"node_ids": _IDS, "tag": _TAG, "position": _XY, "size": _SIZE},
            required=("node_ids",),
        ),
    },
    "/pipelines/{pipeline_id}/duplicate-nodes": {
        "post": _op(
            "Copy nodes into this or another pipeline (edges and slots kept)",
            "201",
            {"node_ids": _IDS, "target_pipeline_id": _ID, "with_data": _BOOL},
            required=("node_ids", "target_pipeline_id"),
        ),
    },
    "/pipelines/{pipeline_id}/reference-nodes": {
        "post": _op(
            "Share nodes with another pipeline (read-only there and here)",
            "204",
            {"node_ids": _IDS, "target_pipeline_id": _ID},
            required=("node_ids", "target_pipeline_id"),
        ),
    },
    "/pipelines/{pipeline_id}/detach": {
        "post": _op(
            "Private copies of the shared nodes below a node",
            "201",
            {"node_id": _ID},
            required=("node_id",),
        ),
    },
    "/pipelines/{pipeline_id}/branch": {
        "post": _op(
            "New pipeline: copies from a node down, upstream shared",
            "201",
            {"node_id": _ID},
            required=("node_id",),
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
        "post": _zip_body(
            _op(
                "A new pipeline, with new ids, from a zip an export made (the body is the zip)",
                "201",
                query={"tag": _TAG},
            )
        ),
    },
    "/pipelines/merge": {
        "post": _op(
            "New pipeline holding every node of several",
            "201",
            {"pipeline_ids": _SEVERAL_IDS},
            required=("pipeline_ids",),
        ),
    },
    "/groups/{group_id}": {
        "patch": _op(
            "Rename, collapse, move or resize a group",
            "200",
            {"tag": _TAG, "collapsed": _BOOL, "position": _XY, "size": _SIZE},
        ),
        "delete": _op("Delete a group (its nodes stay)", "204"),
    },
    "/nodes/{node_id}": {
        "get": _op("One node and the pipelines holding it", "200"),
    },
    "/nodes/{node_id}/parameters": {
        "get": _op("node_parameters.yaml as text", "200"),
        "put": _op(
            "Save node_parameters.yaml (validated: a YAML error names its line, a bad "
            "timeout, retries, retry_delay or resources value its key)",
            "200",
            {"content": {"type": "string", "maxLength": 65_536}},
            required=("content",),
        ),
    },
    "/pipelines/{pipeline_id}/runs": {
        "post": _op(
            "Start a run: whole pipeline, until a node, or selected nodes; answers at once",
            "202",
            {"node_ids": _IDS, "until": _ID},
            exclusive=("node_ids", "until"),
        ),
        "get": _op(
            "Run history of the pipeline, newest first: a page of runs and the total",
            "200",
            query={
                "limit": {**_LIMIT, "maximum": MAX_PAGE},
                "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000},
                "status": {"type": "string", "enum": list(RUN_STATUSES)},
            },
        ),
    },
    "/runs/{run_id}": {
        "get": _op(
            "One run with each node's outcome, attempt of attempts and every attempt's end "
            "(tries), and its progress (done, total, eta)",
            "200",
        )
    },
    "/runs/{run_id}/cancel": {"post": _op("Cancel a run (kills its running nodes)", "200")},
    "/pipelines/{pipeline_id}/nodes/{node_id}/kill": {
        "post": _op("Kill a running node and its whole process tree", "202"),
    },
    "/nodes/{node_id}/runs": {
        "get": _op(
            "Run history of a node, newest first",
            "200",
            query={"limit": _LIMIT},
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
            query={"head": {"type": "integer", "minimum": 1, "maximum": 10_000}},
        ),
    },
    "/whoami": {"get": _op("Who the caller is, as fusionpipe records users", "200")},
    "/nodes/{node_id}/log": {
        "get": _op(
            "The log of the node's latest run, or of run_id; tail=N for the last lines",
            "200",
            query={"run_id": _ID, "tail": _TAIL},
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
    "/trash": {
        "get": _op(
            "What you deleted or owned and can restore, newest first (admins: everything)", "200"
        ),
        "delete": _op(
            "Empty your trash for good, rows and folders (older_than_days: only what was "
            "deleted longer ago)",
            "200",
            query={"older_than_days": {"type": "integer", "minimum": 0, "maximum": 100_000}},
        ),
    },
    "/trash/{trash_id}": {
        "delete": _op("Purge one item for good, rows and folders", "204"),
    },
    "/trash/{trash_id}/restore": {
        "post": _op(
            "Put an item back exactly, rows and folders (409 with the reason when it cannot "
            "be: a tag now taken, its pipeline or project itself in the trash...)",
            "200",
        ),
    },
    "/openapi.json": {
        "get": _op("This document", "200"),
    },
}


# OpenAPI cannot describe a websocket: it is listed apart, under "x-websockets".
_WEBSOCKETS = {
    "/events": "one JSON message per change (statuses, runs, graph), from every user",
}


def operation(path: str, method: str) -> dict[str, Any] | None:
    """The operation documented for ``method`` on ``path`` (a template such as
    ``/projects/{project_id}``), or ``None``."""
    return _PATHS.get(path, {}).get(method.lower())


def methods(path: str) -> list[str]:
    """The HTTP methods documented for ``path``, for an ``Allow`` header."""
    if path in _WEBSOCKETS:
        return ["GET"]
    return [method.upper() for method in _PATHS.get(path, {})]


def paths() -> list[str]:
    return list(_PATHS)


def document(api_url: str = "/fusionpipe/api") -> dict[str, Any]:
    """The document, for a server whose API lives at ``api_url`` (its base URL included)."""
    paths: dict[str, Any] = {}
    for path, operations in _PATHS.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _PATH_PARAMETERS.get(name, _ID),
            }
            for name in names
        ]
        paths[path] = {**({"parameters": parameters} if parameters else {}), **operations}
    return {
        "openapi": "3.1.0",
        "info": {"title": "fusionpipe", "version": __version__},
        "servers": [{"url": api_url}],
        "security": [{"token": []}],
        "paths": paths,
        "x-websockets": _WEBSOCKETS,
        "components": {
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "responses": {
                f"E{code}": {
                    "description": description,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"message": _STR},
                                "required": ["message"],
                            }
                        }
                    },
                }
                for code, description in _ERRORS.items()
            },
        },
    }
