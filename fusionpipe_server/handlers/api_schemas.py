"""The JSON the REST API speaks, each shape defined once: the fields request bodies accept (with
the bounds the server checks) and the objects answers hold (``OBJECTS``, the document's
``components/schemas``, from which the panel's TypeScript types are generated).

The objects must say what handlers really send: ``models.py``'s ``to_json``, the services'
dicts and ``store/graph.py``'s SQL. Their schemas allow no other field, so schemathesis'
response check notices when one of them grows a field the document does not name.
"""

from __future__ import annotations

from typing import Any

from ..core import mapping
from ..models import ITEM_STATUSES, RUN_STATUSES, NodeKind, Status
from ..service.common import MAX_TAG_LENGTH

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
ANY: Schema = {}
# Every id fusionpipe makes has this shape; so do the path segments the routes accept.
ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
ID: Schema = {
    "type": "string",
    "pattern": ID_PATTERN,
    "description": "must be an id (letters, digits, _ and -)",
}
IDS: Schema = {"type": "array", "items": ID, "minItems": 1, "maxItems": 10_000}
SEVERAL_IDS: Schema = {**IDS, "minItems": 2, "uniqueItems": True}
# Text PostgreSQL can store: no NUL, and (for tags) something besides spaces.
TAG: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_TAG_LENGTH,
    "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
    "description": "must not be empty",
}
NOTES: Schema = {"type": "string", "maxLength": 100_000, "pattern": "^[^\\u0000]*$"}
_COORDINATE: Schema = {"type": "number", "minimum": -1e9, "maximum": 1e9}
_LENGTH: Schema = {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6}
XY_IN: Schema = {
    "type": "object",
    "properties": {"x": _COORDINATE, "y": _COORDINATE},
    "required": ["x", "y"],
}
SIZE_IN: Schema = {
    "type": "object",
    "properties": {"width": _LENGTH, "height": _LENGTH},
    "required": ["width", "height"],
}
KIND: Schema = {"type": "string", "enum": [kind.value for kind in NodeKind]}
LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": 1000}
TAIL: Schema = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
# An output's path below the node folder: a file inside data/ or reports/, so segments that
# are neither "." nor "..".
_SEGMENT = "(?:[^/\\u0000.][^/\\u0000]*|\\.[^/\\u0000.][^/\\u0000]*|\\.\\.[^/\\u0000]+)"
OUTPUT_PATH: Schema = {
    "type": "string",
    "maxLength": 4096,
    "pattern": f"^(?:data|reports)(?:/{_SEGMENT})+$",
    "description": "must name a file inside data/ or reports/",
}
# YAML (PyYAML's reader) refuses every control character but tab, newline and carriage return,
# and a few non-characters: the schema says so, so that text it allows is not refused for them.
PARAMETERS_TEXT: Schema = {
    "type": "string",
    "maxLength": 65_536,
    "pattern": "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u0084"
    "\\u0086-\\u009F\\uFFFE\\uFFFF]*$",
    "description": "must hold no control characters but tab, newline and carriage return "
    "(YAML allows no others)",
}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these fields, all present but the ``optional`` ones."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def ref(name: str) -> Schema:
    assert name in OBJECTS, name
    return {"$ref": f"#/components/schemas/{name}"}


def listing(key: str, name: str) -> Schema:
    """``{key: [name, ...]}``, the form of every list the API answers."""
    return obj({key: {"type": "array", "items": ref(name)}})


_TIME: Schema = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = nullable(_TIME)
_STR_OR_NULL = nullable(STR)
_INT_OR_NULL = nullable(INT)
_NUMBER_OR_NULL = nullable(NUMBER)
_XY = obj({"x": NUMBER, "y": NUMBER})
_SIZE = obj({"width": NUMBER, "height": NUMBER})
# Said when an edit could not do all it meant to on disk (a folder of another user...).
_WARNINGS: Schema = {"type": "array", "items": STR}
# The next undo or redo: "Undo rename of node 'fit'" (label) and the edit alone; null: none.
_UNDO_STEP = nullable(obj({"label": STR, "edit": STR}))
# Whether this user may delete, move, lock or unlock it.
_MAY_MANAGE = BOOL

_PROJECT = {
    "id": STR,
    "tag": STR,
    "notes": STR,
    "owner": STR,
    "created_at": _TIME,
    "updated_at": _TIME,
}
_PIPELINE = {
    "id": STR,
    "project_id": STR,
    "tag": STR,
    "notes": STR,
    "owner": STR,
    "locked": BOOL,
    "created_at": _TIME,
    "updated_at": _TIME,
}
_LOCKED_BY: Schema = {
    "oneOf": [
        {"type": "null"},
        obj({"kind": {"const": "node"}}),
        obj({"kind": {"const": "pipeline"}, "id": STR, "tag": STR}),
    ],
    "description": "what locks the node: itself (that wins), or a locked pipeline holding it",
}
ITEM_STATUS: Schema = {"type": "string", "enum": list(ITEM_STATUSES)}
# An item's id: made from its values, safe as a folder name (core/mapping.py).
ITEM_ID: Schema = {"type": "string", "pattern": mapping.ID_PATTERN}
# Values and metrics: any names, each a JSON scalar.
_OPEN: Schema = {"type": "object", "additionalProperties": True}
_ITEM_COUNTS = nullable(
    obj(
        {
            "total": INT,
            "ready": INT,
            "running": INT,
            "completed": INT,
            "failed": INT,
            "staledata": INT,
            # Of the running ones, those still waiting in a batch queue (Slurm's PENDING).
            "queued": INT,
        }
    )
)
_NODE = {
    "id": STR,
    "project_id": STR,
    "tag": STR,
    "notes": STR,
    "kind": KIND,
    "status": {"type": "string", "enum": [status.value for status in Status]},
    "locked": BOOL,
    "locked_by": _LOCKED_BY,
    "owner": STR,
    "folder": {"type": "string", "description": "the node folder's absolute path on the server"},
    "position": _XY,
    "group": _STR_OR_NULL,
    "referenced": BOOL,
    "read_only_reason": {
        **_STR_OR_NULL,
        "description": "why its folder cannot be changed (locked, or shared), null if it can",
    },
    "started_at": {**_TIME_OR_NULL, "description": "when its current run started, if running"},
    "stale_reasons": {"type": "array", "items": obj({"kind": STR, "message": STR})},
    "items": {**_ITEM_COUNTS, "description": "a mapped node's items by status, null if unmapped"},
}
_RUN = {
    "id": STR,
    "pipeline_id": STR,
    "requested_by": STR,
    "scope": STR,
    "status": {"type": "string", "enum": list(RUN_STATUSES)},
    "created_at": _TIME,
    "started_at": _TIME_OR_NULL,
    "finished_at": _TIME_OR_NULL,
    "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/RunNode"}},
}
_PROGRESS = obj({"done": INT, "total": INT, "elapsed_s": NUMBER, "eta_s": _NUMBER_OR_NULL})
_PROVENANCE_STEP = obj(
    {
        "node_id": STR,
        "tag": _STR_OR_NULL,
        "run_id": STR,
        "requested_by": STR,
        "started_at": _TIME_OR_NULL,
        "finished_at": _TIME_OR_NULL,
        "fingerprint": _STR_OR_NULL,
        "kind": _STR_OR_NULL,
        "code": ANY,
        "parameters": ANY,
        "environment": ANY,
        "inputs": {"type": "object"},
        "outputs_digest": _STR_OR_NULL,
        "restored_from": _STR_OR_NULL,
    }
)

OBJECTS: dict[str, Schema] = {
    "Error": obj({"message": STR}),
    "Project": obj(_PROJECT),
    "ManagedProject": obj({**_PROJECT, "may_manage": _MAY_MANAGE}),
    "Pipeline": obj(_PIPELINE),
    "ManagedPipeline": obj(
        {**_PIPELINE, "may_manage": _MAY_MANAGE, "warnings": _WARNINGS}, optional=("warnings",)
    ),
    "Node": obj({**_NODE, "warnings": _WARNINGS}, optional=("warnings",)),
    "NodeDetails": obj(
        {
            **_NODE,
            "made_by": nullable(
                obj(
                    {
                        "run_id": STR,
                        "restored_from": _STR_OR_NULL,
                        "requested_by": STR,
                        "finished_at": _TIME_OR_NULL,
                    }
                )
            ),
            "pipelines": {"type": "array", "items": STR},
            "kernel": STR,
            "lab_path": _STR_OR_NULL,
            "environment": {
                "type": "string",
                "enum": ["none", "ready", "building", "failed", "missing", "stale"],
            },
            # Its batch job (Slurm) while this server watches it: the job id and Slurm's state
            # ("PENDING (Resources)", "RUNNING"); of a mapped node, its job array's id and how
            # many items are in each state ("2 PENDING, 2 RUNNING"). None otherwise.
            "job": nullable(obj({"id": STR, "state": STR})),
        }
    ),
    "Edge": obj({"id": STR, "source": STR, "target": STR, "slot": STR}),
    "Group": obj(
        {
            "id": STR,
            "pipeline_id": STR,
            "tag": STR,
            "collapsed": BOOL,
            "position": _XY,
            "size": _SIZE,
        }
    ),
    "PipelineGraph": obj(
        {
            **_PIPELINE,
            "nodes": {"type": "array", "items": obj(_NODE)},
            "edges": {"type": "array", "items": {"$ref": "#/components/schemas/Edge"}},
            "groups": {"type": "array", "items": {"$ref": "#/components/schemas/Group"}},
        }
    ),
    "ProjectGraph": obj(
        {
            "project": {"$ref": "#/components/schemas/Project"},
            "pipelines": {"type": "array", "items": {"$ref": "#/components/schemas/Pipeline"}},
            # How each pipeline was made from another: branch, duplicate or merge.
            "edges": {
                "type": "array",
                "items": obj({"source": STR, "target": STR, "relation": STR}),
            },
        }
    ),
    "IdMap": obj({"id_map": {"type": "object", "additionalProperties": STR}}),
    "Parameters": obj({"content": STR}),
    "SavedParameters": obj({"content": STR, "parameters": {"type": "object"}}),
    "NodeAttempt": obj(
        {
            "attempt": INT,
            "backend": _STR_OR_NULL,
            "started_at": _TIME,
            "finished_at": _TIME_OR_NULL,
            "exit_code": _INT_OR_NULL,
            "reason": STR,
            "duration": _NUMBER_OR_NULL,
        }
    ),
    "RunNode": obj(
        {
            "node_id": STR,
            "status": {
                "type": "string",
                "enum": ["pending", "running", "completed", "failed", "skipped", "cancelled"],
            },
            "backend": _STR_OR_NULL,
            "started_at": _TIME_OR_NULL,
            "finished_at": _TIME_OR_NULL,
            "exit_code": _INT_OR_NULL,
            "reason": STR,
            "fingerprint": _STR_OR_NULL,
            "restored_from": _STR_OR_NULL,
            "attempt": INT,
            "attempts": INT,
            # Its batch job (Slurm: "12"; of a mapped node, its job array), None elsewhere.
            "job_id": _STR_OR_NULL,
            "tries": {"type": "array", "items": {"$ref": "#/components/schemas/NodeAttempt"}},
            "duration": _NUMBER_OR_NULL,
            # What the execution started from: see fingerprint/parts.py.
            "made_from": nullable(
                obj(
                    {
                        "kind": STR,
                        "code_hash": STR,
                        "parameters": ANY,
                        "environment_hash": STR,
                        "inputs": {"type": "object"},
                    }
                )
            ),
            # A mapped node's items in this run (GET runs/{id} only): to execute, done...
            "items": nullable(obj({"total": INT, "done": INT, "failed": INT, "running": INT})),
        },
        optional=("items",),
    ),
    "Run": obj(_RUN),
    "RunWithProgress": obj({**_RUN, "progress": _PROGRESS}),
    "RunPage": obj(
        {
            "runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
            "total": INT,
            "limit": INT,
            "offset": INT,
        }
    ),
    "Kill": obj({"node_id": STR, "killed": BOOL, "message": STR}, optional=("message",)),
    "Item": obj(
        {
            "id": STR,
            "values": _OPEN,
            "status": ITEM_STATUS,
            "stale_reasons": {"type": "array", "items": obj({"kind": STR, "message": STR})},
            "run_id": _STR_OR_NULL,
            "exit_code": _INT_OR_NULL,
            "reason": STR,
            "duration": _NUMBER_OR_NULL,
            "attempts": INT,
            "metrics": _OPEN,
            "folder": {"type": "string", "description": "its outputs, relative to the node folder"},
            # Slurm's state of its job array task while it runs as one ("PENDING (Resources)",
            # "RUNNING"), None otherwise.
            "job_state": _STR_OR_NULL,
        }
    ),
    "ItemPage": obj(
        {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "total": INT,
            "offset": INT,
            "limit": INT,
        }
    ),
    "Metrics": obj(
        {
            "by": {"type": "string", "enum": ["items", "runs"]},
            "values": {"type": "array", "items": STR},
            "metrics": {"type": "array", "items": STR},
            "rows": {
                "type": "array",
                "items": obj(
                    {
                        "id": STR,
                        "status": STR,
                        "run_id": _STR_OR_NULL,
                        "values": _OPEN,
                        "metrics": _OPEN,
                    }
                ),
            },
        }
    ),
    "NodeLog": obj({"node_id": STR, "run_id": _STR_OR_NULL, "content": STR}),
    "OutputListing": obj(
        {
            "node_id": STR,
            "entries": {
                "type": "array",
                "items": obj(
                    {
                        "path": STR,
                        "size": INT,
                        "kind": {
                            "type": "string",
                            "enum": ["image", "csv", "text", "html", "notebook", "other"],
                        },
                    }
                ),
            },
            "total": INT,
            "complete": BOOL,
        }
    ),
    "Provenance": obj(
        {
            "node_id": STR,
            "made_by_run": _STR_OR_NULL,
            "steps": {"type": "array", "items": _PROVENANCE_STEP},
        }
    ),
    "WhoAmI": obj({"username": STR, "admin": BOOL}),
    "UndoStacks": obj({"undo": _UNDO_STEP, "redo": _UNDO_STEP}),
    "UndoDone": obj({"done": STR, "undo": _UNDO_STEP, "redo": _UNDO_STEP}),
    "TrashItem": obj(
        {
            "id": STR,
            "kind": {"type": "string", "enum": ["project", "pipeline", "node"]},
            "item_id": STR,
            "tag": STR,
            "owner": STR,
            "deleted_by": STR,
            "deleted_at": _TIME,
            "expires_at": _TIME,
            "pipeline_id": _STR_OR_NULL,
            "project_id": _STR_OR_NULL,
            "counts": {"type": "object", "additionalProperties": INT},
        }
    ),
}
