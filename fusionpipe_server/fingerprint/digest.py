"""Digests of values: canonical JSON text, hashed fast."""

from __future__ import annotations

import json
from typing import Any

import xxhash


def canonical(value: Any) -> str:
    """One text per value, whatever the order of its keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def digest_text(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode())
