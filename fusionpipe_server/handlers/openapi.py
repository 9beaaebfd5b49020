"""The OpenAPI document of the REST API, served at ``fusionpipe/api/openapi.json``.

It is also the API's input contract: handlers read bodies and query arguments only through
``validation.py`` against these schemas, and the handler table is built from these paths; a
test checks that both list the same routes and verbs. ``api_schemas.py`` defines the shapes,
``api_paths.py`` and ``api_node_paths.py`` the operations, ``api_links.py`` how one answer
gives the ids of the next call.

``python -m fusionpipe_server.handlers`` prints the document (no server needed): the
panel's TypeScript types are generated from it (``jlpm gen:api``).
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

from .. import __version__
from .api_links import LINKS
from .api_node_paths import NODE_PATHS
from .api_operations import ERRORS
from .api_paths import GRAPH_PATHS
from .api_schemas import ID, ID_PATTERN, OBJECTS, OUTPUT_PATH, ref

__all__ = ["ID_PATTERN", "document", "methods", "operation", "paths"]

PATHS = {**GRAPH_PATHS, **NODE_PATHS}
# Path parameters are ids, but for an output's path below the node folder (slashes allowed).
_PATH_PARAMETERS = {"path": OUTPUT_PATH}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before asking again",
        "schema": {"type": "integer", "minimum": 1},
    }
}

# OpenAPI cannot describe a websocket: it is listed apart, under "x-websockets".
_WEBSOCKETS = {
    "/events": "one JSON message per change (statuses, runs, graph), from every user",
}


def operation(path: str, method: str) -> dict[str, Any] | None:
    """The operation documented for ``method`` on ``path`` (a template such as
    ``/projects/{project_id}``), or ``None``."""
    return PATHS.get(path, {}).get(method.lower())


def methods(path: str) -> list[str]:
    """The HTTP methods documented for ``path``, for an ``Allow`` header."""
    if path in _WEBSOCKETS:
        return ["GET"]
    return [method.upper() for method in PATHS.get(path, {})]


def paths() -> list[str]:
    return list(PATHS)


def _with_links(path: str, verb: str, item: dict[str, Any]) -> dict[str, Any]:
    links = LINKS.get((path, verb))
    if not links:
        return item
    item = copy.deepcopy(item)
    for status, response in item["responses"].items():
        if not status.startswith("$") and status.startswith("2"):
            response["links"] = links
    return item


def document(api_url: str = "/fusionpipe/api") -> dict[str, Any]:
    """The document, for a server whose API lives at ``api_url`` (its base URL included)."""
    paths: dict[str, Any] = {}
    for path, operations in PATHS.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _PATH_PARAMETERS.get(name, ID),
            }
            for name in names
        ]
        paths[path] = {**({"parameters": parameters} if parameters else {})}
        for verb, item in operations.items():
            paths[path][verb] = _with_links(path, verb, item)
    error = {"application/json": {"schema": ref("Error")}}
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
            "schemas": OBJECTS,
            "responses": {
                f"E{code}": {
                    "description": description,
                    "content": error,
                    **({"headers": _RETRY_AFTER} if code == "503" else {}),
                }
                for code, description in ERRORS.items()
            },
        },
    }


def main() -> None:
    """Print the document (``python -m fusionpipe_server.handlers``)."""
    json.dump(document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
