"""Checks request bodies and query arguments against the schemas of the OpenAPI document.

The document (``openapi.py``) is the one statement of what each operation accepts; handlers
read their input only through these checks, so the two cannot drift. Only the small part of
JSON Schema the document uses is understood.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import Invalid

# Besides what a schema says, no text anywhere may hold NUL (PostgreSQL cannot store it) or a
# lone surrogate (it cannot be encoded as UTF-8).
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS = re.compile("[0-9]{1,18}")


def parse_json_body(raw: bytes) -> Any:
    """The body's JSON value; ``Invalid`` for anything that is not plain, finite JSON."""

    def refuse_constant(name: str) -> Any:
        raise Invalid(f"the request body is not valid JSON: {name} is not a number")

    try:
        return json.loads(raw, parse_constant=refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Invalid(f"the request body is not valid JSON: {err}") from err
    except RecursionError as err:
        raise Invalid("the request body is nested too deeply") from err
    except ValueError as err:  # an integer of thousands of digits
        raise Invalid(f"the request body holds a number that is too large: {err}") from err


def check(value: Any, schema: dict[str, Any], field: str) -> None:
    """Raise ``Invalid`` naming ``field`` (a dotted path) where ``value`` breaks ``schema``."""
    if "enum" in schema:
        if value not in schema["enum"]:
            choices = ", ".join(str(choice) for choice in schema["enum"])
            raise Invalid(f"{field} must be one of {choices}")
        return
    kind = schema.get("type")
    if kind == "string":
        _check_text(value, schema, field)
    elif kind in ("number", "integer"):
        _check_number(value, schema, field, whole=kind == "integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid(f"{field} must be true or false")
    elif kind == "array":
        _check_list(value, schema, field)
    elif kind == "object":
        check_object(value, schema, field)


def check_object(value: Any, schema: dict[str, Any], field: str) -> None:
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be a JSON object")
    for name in schema.get("required", ()):
        if value.get(name) is None:
            raise Invalid(f"{_join(field, name)} is required")
    together = schema.get("not", {}).get("required", ())
    if together and all(value.get(name) is not None for name in together):
        raise Invalid(f"give {' or '.join(together)}, not both")
    properties = schema.get("properties", {})
    for name, item in value.items():
        path = _join(field, name)
        if name in properties:
            # Leave an optional field out rather than send null: null is not its type.
            check(item, properties[name], path)
            continue
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "propertyNames" in schema:
                check(name, schema["propertyNames"], f"the key {path}")
            check(item, extra, path)


def _join(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def _check_text(value: Any, schema: dict[str, Any], field: str) -> None:
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string")
    if "\x00" in value:
        raise Invalid(f"{field} must not contain NUL characters")
    if _SURROGATE.search(value):
        raise Invalid(f"{field} holds a lone surrogate: not valid text")
    if len(value) < schema.get("minLength", 0):
        raise Invalid(f"{field} must not be empty")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise Invalid(f"{field} is longer than {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise Invalid(f"{field} {schema.get('description', 'has the wrong form')}")


def _check_number(value: Any, schema: dict[str, Any], field: str, *, whole: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{field} must be a number")
    if whole and not isinstance(value, int):
        raise Invalid(f"{field} must be a whole number")
    low, high = schema.get("minimum"), schema.get("maximum")
    above = schema.get("exclusiveMinimum")
    if low is not None and value < low:
        raise Invalid(f"{field} must be at least {low:g}")
    if above is not None and not value > above:
        raise Invalid(f"{field} must be greater than {above:g}")
    if high is not None and value > high:
        raise Invalid(f"{field} must be at most {high:g}")


def _check_list(value: Any, schema: dict[str, Any], field: str) -> None:
    if not isinstance(value, list):
        raise Invalid(f"{field} must be a list")
    if len(value) < schema.get("minItems", 0):
        raise Invalid(f"{field} must not be empty")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise Invalid(f"{field} holds more than {schema['maxItems']} items")
    for index, item in enumerate(value):
        check(item, schema["items"], f"{field}[{index}]")
    if schema.get("uniqueItems") and len(set(value)) != len(value):
        raise Invalid(f"{field} names an id more than once")


def query_value(raw: str, schema: dict[str, Any], name: str) -> Any:
    """A query argument converted to its schema type and checked. Whole numbers are ASCII
    digits only: ``str.isdigit`` also accepts "²", which ``int`` refuses."""
    kind = schema.get("type")
    value: Any = raw
    if kind == "integer":
        if not _DIGITS.fullmatch(raw):
            raise Invalid(f"{name} must be a positive whole number")
        value = int(raw)
    elif kind == "boolean":
        choices = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if raw.lower() not in choices:
            raise Invalid(f"{name} must be true or false")
        value = choices[raw.lower()]
    check(value, schema, name)
    return value
