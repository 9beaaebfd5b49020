"""Change announcements on the ``fusionpipe`` NOTIFY channel, sent when a transaction commits."""

from __future__ import annotations

import json
from typing import Any

from psycopg import AsyncConnection

CHANNEL = "fusionpipe"


async def announce(conn: AsyncConnection, event: str, **fields: Any) -> None:
    """Queue an event for every listening server; it is sent only if the transaction commits."""
    payload = json.dumps({"event": event, **fields}, default=str)
    await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


async def node_status(conn: AsyncConnection, node_id: str, status: str, **more: Any) -> None:
    """A node's status (and its ``stale_reasons``, the run that changed it...) changed: every
    canvas shows it. The one announcement of it."""
    await announce(conn, "node.status", node_id=node_id, status=status, **more)


async def listen(conn: AsyncConnection) -> None:
    """Subscribe this (autocommit) connection to every server's announcements."""
    await conn.execute(f"LISTEN {CHANNEL}")
