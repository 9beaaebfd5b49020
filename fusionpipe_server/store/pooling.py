"""Whether a database URL leads to PostgreSQL itself or through a connection pooler (PgBouncer),
and in which mode, told from how the backends behave rather than from any setting.

Two client connections never share a PostgreSQL backend unless a pooler hands backends out per
transaction (or per statement): then session state does not survive a transaction. That
rules out prepared statements (PgBouncer 1.18 does not track them) and LISTEN, which has to
stay on one backend; NOTIFY inside a transaction is fine. A backend that outlives the client
that used it means pooling per session: it works, but saves no PostgreSQL connections.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

import psycopg

from ..errors import Unavailable

log = logging.getLogger(__name__)

# Long enough for a pooler that waits for a free backend: a check made once, not a request.
_CONNECT_SECONDS = 10


class Pooling(enum.Enum):
    DIRECT = "direct"
    SESSION = "session"
    TRANSACTION = "transaction"
    STATEMENT = "statement"

    @property
    def shares_backends(self) -> bool:
        """A backend serves other clients between this client's transactions: nothing set on
        it outside a transaction (prepared statements, LISTEN, session SETs) can be relied on."""
        return self in (Pooling.TRANSACTION, Pooling.STATEMENT)


def _backend(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def _backends_shared(dsn: str) -> bool:
    """Two open clients, one statement at a time each: does either see its backend change, or
    both the same one? Neither happens without transaction or statement pooling. The order
    (A, A, B, B, A, B) shows it whether the pooler reuses backends last-in-first-out
    (PgBouncer's default: B gets A's) or round robin (A's second statement gets another)."""
    with (
        psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_SECONDS) as a,
        psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_SECONDS) as b,
    ):
        seen: dict[psycopg.Connection, set[int]] = {a: set(), b: set()}
        for client in (a, a, b, b, a, b):
            seen[client].add(_backend(client))
    return len(seen[a]) > 1 or len(seen[b]) > 1 or bool(seen[a] & seen[b])


def _transactions_hold(dsn: str) -> bool:
    """Do two statements of one transaction run in it? Statement pooling refuses the transaction
    (PgBouncer) or runs each statement in a transaction of its own (other poolers)."""
    try:
        with psycopg.connect(dsn, connect_timeout=_CONNECT_SECONDS) as conn:
            first = conn.execute("SELECT txid_current()").fetchone()
            second = conn.execute("SELECT txid_current()").fetchone()
    except psycopg.errors.ProtocolViolation:
        return False
    return first == second


def _backend_outlives_client(dsn: str) -> bool:
    """Without a pooler every connection gets a backend of its own that ends with it."""
    backends = set()
    for _ in range(2):
        with psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_SECONDS) as conn:
            backends.add(_backend(conn))
    return len(backends) == 1


def detect(dsn: str) -> Pooling:
    """How connections to ``dsn`` reach PostgreSQL. Opens a few short connections (30 to 70 ms
    in all, measured); ``psycopg.OperationalError`` when it cannot be reached."""
    if _backends_shared(dsn):
        return Pooling.TRANSACTION if _transactions_hold(dsn) else Pooling.STATEMENT
    return Pooling.SESSION if _backend_outlives_client(dsn) else Pooling.DIRECT


@dataclass(frozen=True)
class Connections:
    """Where a server's pool (``dsn``) and its LISTEN connection (``events_dsn``) go."""

    dsn: str
    events_dsn: str
    pooling: Pooling


def connections(dsn: str, events_url: str, *, embedded: bool) -> Connections:
    """The pool on ``dsn``, events on ``events_url`` (default: ``dsn``). An embedded database
    is reached directly, and so are its events; an external one is probed (see ``detect``)."""
    if embedded:
        return Connections(dsn, dsn, Pooling.DIRECT)
    try:
        pooling = detect(dsn)
    except psycopg.OperationalError as err:
        raise Unavailable(f"cannot connect to the fusionpipe database: {err}") from err
    found = Connections(dsn, events_url or dsn, pooling)
    if pooling.shares_backends and found.events_dsn == dsn:
        log.warning(
            "fusionpipe: the database is reached through a pooler in %s mode, where LISTEN "
            "does not work: live updates and kills asked from other servers will not arrive. "
            "Set events_database_url ($FUSIONPIPE_EVENTS_DATABASE_URL) to PostgreSQL itself.",
            pooling.value,
        )
    return found
