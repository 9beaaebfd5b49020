"""The identity file ``.fusionpipe-node.json``: how code inside a node folder knows its node."""

from __future__ import annotations

import datetime
import json
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import holds, write_atomically

IDENTITY_FILE = ".fusionpipe-node.json"
IDENTITY_FORMAT = 1


def _json_safe(value: Any) -> Any:
    """YAML values JSON lacks, made portable: dates become ISO text, non-finite numbers null
    (MATLAB's ``jsondecode`` rejects NaN), other odd scalars their text."""
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def identity_bytes(identity: Mapping[str, Any]) -> bytes:
    """The file's content: ``format`` first, then the given fields."""
    document = {"format": IDENTITY_FORMAT, **_json_safe(identity)}
    return json.dumps(document, indent=1, allow_nan=False).encode()


def write_identity(folder: Path, identity: Mapping[str, Any]) -> None:
    """Write ``folder``'s identity file atomically (readers never see half of it), also when
    the folder is locked: its owner's write bit is lent for the rename and taken back."""
    content = identity_bytes(identity)
    if holds(folder / IDENTITY_FILE, content):
        return
    mode = folder.stat().st_mode
    lend = not os.access(folder, os.W_OK)
    if lend:
        folder.chmod(stat.S_IMODE(mode) | stat.S_IWUSR)
    try:
        write_atomically(folder / IDENTITY_FILE, content)
    finally:
        if lend:
            folder.chmod(stat.S_IMODE(mode))


def read_identity(folder: Path) -> dict[str, Any]:
    """The identity file of ``folder`` as a dict (``{}`` when there is none)."""
    path = folder / IDENTITY_FILE
    if not path.is_file():
        return {}
    identity: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return identity
