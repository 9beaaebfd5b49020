"""The doctor's look at a connection pooler (PgBouncer) between the servers and PostgreSQL:
which mode it pools in, found by how backends behave (store/pooling.py), and whether the live
events' LISTEN connection avoids it."""

from __future__ import annotations

import psycopg

from ..store.pooling import Pooling, detect
from .check import Check

_FIX_MODE = "set pool_mode = transaction in pgbouncer.ini"
_FIX_EVENTS = (
    "set events_database_url ($FUSIONPIPE_EVENTS_DATABASE_URL) to the same database reached "
    "directly, not through the pooler"
)


def _database_check(pooling: Pooling) -> Check:
    name = "connection pooling"
    if pooling is Pooling.DIRECT:
        return Check(name, True, "none: database_url leads to PostgreSQL itself")
    if pooling is Pooling.TRANSACTION:
        return Check(
            name,
            True,
            "database_url goes through a pooler in transaction mode (PgBouncer): servers "
            "share PostgreSQL's connections and prepare no statements there; PostgreSQL needs "
            "PgBouncer's max_db_connections, plus one connection per server for live events, "
            "plus its reserved ones",
        )
    if pooling is Pooling.SESSION:
        return Check(
            name,
            True,
            "database_url goes through a pooler in session mode: it works, but every "
            "connection a server opens keeps a PostgreSQL connection for its whole life, so "
            f"the pooler saves none: {_FIX_MODE}",
            warning=True,
        )
    return Check(
        name,
        False,
        "database_url goes through a pooler in statement mode, which refuses the "
        f"transactions of several statements every change makes: {_FIX_MODE}",
    )


def _events_check(pooling: Pooling, separate: bool) -> Check:
    name = "live events"
    url = "events_database_url" if separate else "database_url (no events_database_url set)"
    if pooling.shares_backends:
        return Check(
            name,
            False,
            f"{url} goes through a pooler in {pooling.value} mode, where LISTEN does not work: "
            f"no live update nor kill from another server would arrive: {_FIX_EVENTS}",
        )
    how = "directly" if pooling is Pooling.DIRECT else f"through a pooler in {pooling.value} mode"
    return Check(name, True, f"LISTEN on {url}, reaching PostgreSQL {how}")


def pooling_checks(dsn: str, events_dsn: str | None) -> tuple[Pooling | None, list[Check]]:
    """How ``dsn`` (the servers' pools) and ``events_dsn`` (their LISTEN connection, default
    ``dsn``) reach PostgreSQL, and what to change when fusionpipe cannot work so. Also the
    pooler's mode when ``dsn``'s connections share backends (else None)."""
    separate = bool(events_dsn) and events_dsn != dsn
    try:
        pooling = detect(dsn)
    except psycopg.Error as err:
        return None, [Check("connection pooling", False, f"could not tell ({err})")]
    shared = pooling if pooling.shares_backends else None
    checks = [_database_check(pooling)]
    if not separate:
        return shared, [*checks, _events_check(pooling, separate=False)]
    assert events_dsn is not None
    try:
        events = detect(events_dsn)
    except psycopg.Error as err:
        detail = f"cannot connect to events_database_url ({err}): check it"
        return shared, [*checks, Check("live events", False, detail)]
    return shared, [*checks, _events_check(events, separate=True)]
