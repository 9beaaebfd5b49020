"""How many PostgreSQL connections fusionpipe's servers need: the one rule that ``fusionpipe
admin doctor`` checks and the admin guide's sizing table follows.

Every user's server holds at most its pool (``FusionpipeApp.db_pool_size``) plus one
connection for live events (LISTEN); PostgreSQL keeps some of its ``max_connections`` for
superusers, and administrators' tools (psql, ``fusionpipe admin``, backups) need a few more.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

# Connections left for administrators' tools beyond the slots PostgreSQL itself reserves.
SPARE = 5


def needed(users: int, pool_size: int, reserved: int) -> int:
    """The max_connections that lets every user's server use its whole pool at once."""
    return users * (pool_size + 1) + reserved + SPARE


@dataclass(frozen=True)
class Budget:
    users: int
    pool_size: int
    max_connections: int
    reserved: int

    @property
    def needed(self) -> int:
        return needed(self.users, self.pool_size, self.reserved)

    @property
    def enough(self) -> bool:
        return self.max_connections >= self.needed

    def describe(self) -> str:
        rule = (
            f"{self.users} user(s) x (pool {self.pool_size} + 1 for live events) + "
            f"{self.reserved} reserved + {SPARE} spare = {self.needed}"
        )
        if self.enough:
            return f"max_connections {self.max_connections} covers {rule}"
        return (
            f"max_connections {self.max_connections} is too low for {rule}: set "
            f"max_connections = {self.needed} in postgresql.conf (and restart PostgreSQL), "
            "or lower FusionpipeApp.db_pool_size, or put PgBouncer in front (admin guide, "
            "sizing)"
        )


def measure(conn: psycopg.Connection, pool_size: int, users_role: str) -> Budget:
    """The budget of the database ``conn`` is on, for the users it knows: the members of
    ``users_role`` or the owners of projects and pipelines, whichever are more."""
    members = conn.execute(
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
        " WHERE r.rolname = %s",
        (users_role,),
    ).fetchone()
    owners = conn.execute(
        "SELECT count(DISTINCT owner) FROM"
        " (SELECT owner FROM projects UNION SELECT owner FROM pipelines) AS owners"
    ).fetchone()
    settings: dict[str, int] = dict(
        conn.execute(
            "SELECT name, setting::int FROM pg_settings WHERE name IN"
            " ('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
        ).fetchall()
    )
    assert members is not None and owners is not None
    return Budget(
        users=max(members[0], owners[0]),
        pool_size=pool_size,
        max_connections=settings["max_connections"],
        reserved=settings["superuser_reserved_connections"]
        + settings.get("reserved_connections", 0),
    )
