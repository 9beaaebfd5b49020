"""How the document states an operation: what it takes (a JSON body, query arguments), what it
answers on success (a JSON object of ``api_schemas.py``, or none) and the errors every
operation may answer, as ``{message}``."""

from __future__ import annotations

from typing import Any

from .api_schemas import Schema

ERRORS = {
    "400": "bad input: the message names the field",
    "401": "no credentials: log in or send Authorization: token <token>",
    "403": "not allowed: only the owner or an admin may delete, move or lock it (the "
    "message names them); or not authorized for this action; or a browser write without the "
    "XSRF token",
    "404": "unknown id",
    "409": "conflict: cycle, locked, referenced, duplicate tag, already running",
    "503": "the database cannot be reached or is busy right now: ask again after the "
    "seconds the Retry-After header gives",
}
BINARY = {"schema": {"type": "string", "format": "binary"}}


def op(
    operation_id: str,
    summary: str,
    ok: str,
    answer: Schema | None = None,
    body: dict[str, Schema] | None = None,
    *,
    required: tuple[str, ...] = (),
    exclusive: tuple[str, ...] = (),
    query: dict[str, Schema] | None = None,
) -> dict[str, Any]:
    """An operation answering ``ok`` with JSON ``answer`` (none: no body, as a 204)."""
    success: dict[str, Any] = {"description": "success"}
    if answer is not None:
        success["content"] = {"application/json": {"schema": answer}}
    responses: dict[str, Any] = {ok: success}
    responses.update({code: {"$ref": f"#/components/responses/E{code}"} for code in ERRORS})
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": responses,
    }
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


def zip_body(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation whose request body is a zip instead of JSON. Declared as plain bytes: the
    server reads the body whatever its Content-Type, and OpenAPI tools know no zip media type."""
    operation["requestBody"] = {"required": True, "content": {"application/octet-stream": BINARY}}
    return operation


def answer_with(operation: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    """An operation whose success answers with ``content`` instead of JSON."""
    operation["responses"]["200"]["content"] = content
    return operation
