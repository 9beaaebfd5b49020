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
import time
from dataclasses import dataclass

import psycopg

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
    """Was the backend a new connection gets started before that connection was asked for?
    Without a pooler never: every connection gets a backend of its own. A pooler in session
    mode hands out one it keeps idle (those of ``_backends_shared`` at least), whichever it
    picks. Tried three times, in case the idle ones are all still being reset."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_SECONDS) as clock:
        for _ in range(3):
            asked = clock.execute("SELECT clock_timestamp()").fetchone()
            with psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_SECONDS) as conn:
                started = conn.execute(
                    "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                ).fetchone()
            assert asked is not None and started is not None
            if started[0] < asked[0]:
                return True
            time.sleep(0.02)
    return False


def sharing(dsn: str) -> Pooling | None:
    """``TRANSACTION`` or ``STATEMENT`` when connections to ``dsn`` share backends, else None
    (directly, or pooled per session: each connection keeps its backend). Two connections,
    tens of milliseconds; ``psycopg.OperationalError`` when the database cannot be reached."""
    if not _backends_shared(dsn):
        return None
    return Pooling.TRANSACTION if _transactions_hold(dsn) else Pooling.STATEMENT


def detect(dsn: str) -> Pooling:
    """How connections to ``dsn`` reach PostgreSQL: ``sharing``, and when backends are not
    shared, whether they outlive their clients (a few more connections, up to 0.5 s)."""
    shared = sharing(dsn)
    if shared is not None:
        return shared
    return Pooling.SESSION if _backend_outlives_client(dsn) else Pooling.DIRECT


@dataclass(frozen=True)
class Connections:
    """Where a server's pool (``dsn``) and its LISTEN connection (``events_dsn``) go, the
    pooler's mode when the pool's connections share backends (else None), and whether the
    pool may prepare statements: only where each connection is known to keep its backend."""

    dsn: str
    events_dsn: str
    shared: Pooling | None
    prepare: bool


def unprobed(dsn: str, events_url: str) -> Connections:
    """For a database that cannot be reached now: whether a pooler shares backends cannot be
    told, and preparing no statements is right either way (a little slower at most)."""
    return Connections(dsn, events_url or dsn, None, prepare=False)


def connections(dsn: str, events_url: str, *, embedded: bool) -> Connections:
    """The pool on ``dsn``, events on ``events_url`` (default: ``dsn``). An embedded database
    is reached directly, and so are its events; an external one is probed (see ``sharing``)."""
    if embedded:
        return Connections(dsn, dsn, None, prepare=True)
    try:
        shared = sharing(dsn)
    except psycopg.OperationalError as err:
        log.warning("fusionpipe: could not tell whether a pooler shares backends (%s)", err)
        return unprobed(dsn, events_url)
    found = Connections(dsn, events_url or dsn, shared, prepare=shared is None)
    if shared is not None and found.events_dsn == dsn:
        log.warning(
            "fusionpipe: the database is reached through a pooler in %s mode, where LISTEN "
            "does not work: live updates and kills asked from other servers will not arrive. "
            "Set events_database_url ($FUSIONPIPE_EVENTS_DATABASE_URL) to PostgreSQL itself.",
            shared.value,
        )
    return found
