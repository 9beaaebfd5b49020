"""The operations on one node (parameters, log, outputs, provenance), on runs, on the trash, and
the API's own."""

from __future__ import annotations

from typing import Any

from ..models import RUN_STATUSES
from ..service.runs.history import MAX_PAGE
from .api_operations import BINARY, answer_with, op
from .api_schemas import ID, IDS, ITEM_ID, ITEM_STATUS, LIMIT, PARAMETERS_TEXT, TAIL, listing, ref

_PIPELINE = ref("ManagedPipeline")
MAX_ITEM_PAGE = 500
_RUN_ITEMS = {
    "type": "object",
    "description": 'node id -> the item ids to run, or "failed"',
    "maxProperties": 1000,
    "propertyNames": ID,
    "additionalProperties": {
        "oneOf": [
            {"type": "string", "enum": ["failed"]},
            {"type": "array", "items": ITEM_ID, "minItems": 1, "maxItems": 100_000},
        ]
    },
}

NODE_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/nodes/{node_id}": {
        "get": op("getNode", "One node and the pipelines holding it", "200", ref("NodeDetails")),
    },
    "/nodes/{node_id}/parameters": {
        "get": op("getParameters", "node_parameters.yaml as text", "200", ref("Parameters")),
        "put": op(
            "saveParameters",
            "Save node_parameters.yaml (validated: a YAML error names its line, a bad "
            "timeout, retries, retry_delay or resources value its key)",
            "200",
            ref("SavedParameters"),
            {"content": PARAMETERS_TEXT},
            required=("content",),
        ),
    },
    "/pipelines/{pipeline_id}/runs": {
        "post": op(
            "startRun",
            "Start a run: whole pipeline, until a node, or selected nodes; items: of mapped "
            'nodes, only these item ids (or "failed") and whatever reads those nodes; answers '
            "at once",
            "202",
            ref("Run"),
            {"node_ids": IDS, "until": ID, "items": _RUN_ITEMS},
            exclusive=("node_ids", "until"),
        ),
        "get": op(
            "pipelineRuns",
            "Run history of the pipeline, newest first: a page of runs and the total",
            "200",
            ref("RunPage"),
            query={
                "limit": {**LIMIT, "maximum": MAX_PAGE},
                "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000},
                "status": {"type": "string", "enum": list(RUN_STATUSES)},
            },
        ),
    },
    "/runs/{run_id}": {
        "get": op(
            "getRun",
            "One run with each node's outcome, attempt of attempts and every attempt's end "
            "(tries), and its progress (done, total, eta)",
            "200",
            ref("RunWithProgress"),
        )
    },
    "/runs/{run_id}/cancel": {
        "post": op("cancelRun", "Cancel a run (kills its running nodes)", "200", ref("Run"))
    },
    "/pipelines/{pipeline_id}/nodes/{node_id}/kill": {
        "post": op(
            "killNode", "Kill a running node and its whole process tree", "202", ref("Kill")
        ),
    },
    "/nodes/{node_id}/runs": {
        "get": op(
            "nodeRuns",
            "Run history of a node, newest first",
            "200",
            listing("runs", "Run"),
            query={"limit": LIMIT},
        ),
    },
    "/nodes/{node_id}/outputs": {
        "get": op(
            "listOutputs",
            "The files of data/ and reports/ (the first 200), with sizes and kinds; of one "
            "item of a mapped node with item=ID",
            "200",
            ref("OutputListing"),
            query={"item": ITEM_ID},
        ),
    },
    "/nodes/{node_id}/items": {
        "get": op(
            "nodeItems",
            "A page of a mapped node's items in declaration order, filtered by status and "
            "by a part of their id (q), and how many match",
            "200",
            ref("ItemPage"),
            query={
                "status": ITEM_STATUS,
                "q": {"type": "string", "maxLength": 120},
                "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ITEM_PAGE},
            },
        ),
    },
    "/nodes/{node_id}/metrics": {
        "get": op(
            "nodeMetrics",
            "What fusionpipe.metrics() recorded, with the values: by item of a mapped node, "
            "or by run of the node, for the compare view",
            "200",
            ref("Metrics"),
            query={"by": {"type": "string", "enum": ["items", "runs"]}},
        ),
    },
    "/nodes/{node_id}/outputs/{path}": {
        "get": answer_with(
            op(
                "getOutput",
                "One output file (path relative to the node folder, inside data/ or "
                "reports/); head=N for the first lines of a text file",
                "200",
                query={"head": {"type": "integer", "minimum": 1, "maximum": 10_000}},
            ),
            # The file's own type; text/plain for head=N.
            {"*/*": BINARY},
        ),
    },
    "/whoami": {
        "get": op("whoami", "Who the caller is, as fusionpipe records users", "200", ref("WhoAmI"))
    },
    "/nodes/{node_id}/log": {
        "get": op(
            "nodeLog",
            "The log of the node's latest run, or of run_id; tail=N for the last lines; "
            "item=ID for one item of a mapped node",
            "200",
            ref("NodeLog"),
            query={"run_id": ID, "tail": TAIL, "item": ITEM_ID},
        ),
    },
    "/nodes/{node_id}/provenance": {
        "get": op(
            "provenance",
            "What made the node's outputs: its run, fingerprint and parts, back to the roots",
            "200",
            ref("Provenance"),
        ),
    },
    "/examples": {
        "post": op(
            "createExample",
            "Create the example pipeline (make data, fit, plot, report)",
            "201",
            _PIPELINE,
        ),
    },
    "/trash": {
        "get": op(
            "listTrash",
            "What you deleted or owned and can restore, newest first (admins: everything)",
            "200",
            listing("items", "TrashItem"),
        ),
        "delete": op(
            "emptyTrash",
            "Empty your trash for good, rows and folders (older_than_days: only what was "
            "deleted longer ago)",
            "200",
            listing("purged", "TrashItem"),
            query={"older_than_days": {"type": "integer", "minimum": 0, "maximum": 100_000}},
        ),
    },
    "/trash/{trash_id}": {
        "delete": op("purgeTrash", "Purge one item for good, rows and folders", "204"),
    },
    "/trash/{trash_id}/restore": {
        "post": op(
            "restoreTrash",
            "Put an item back exactly, rows and folders (409 with the reason when it cannot "
            "be: a tag now taken, its pipeline or project itself in the trash...)",
            "200",
            ref("TrashItem"),
        ),
    },
    "/openapi.json": {
        "get": op("openapi", "This document", "200", {"type": "object"}),
    },
}
