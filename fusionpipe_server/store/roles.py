"""SQL for database roles: the users role with row rights only, and users' login roles.
Every name is quoted as an identifier, never interpolated."""

from __future__ import annotations

import psycopg
from psycopg import sql


def role_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None


def create_role(conn: psycopg.Connection, name: str, *, login: bool) -> None:
    kind = sql.SQL("LOGIN" if login else "NOLOGIN")
    conn.execute(sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(name), kind))


def set_password(conn: psycopg.Connection, name: str, password: str) -> None:
    conn.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password))
    )


def grant_membership(conn: psycopg.Connection, group: str, member: str) -> None:
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(member)))


def grant_row_rights(conn: psycopg.Connection, users_role: str) -> None:
    """Read and write rows of every table, now and later; never change the schema."""
    role = sql.Identifier(users_role)
    database = conn.execute("SELECT current_database()").fetchone()
    assert database is not None
    statements: list[sql.Composed | sql.SQL] = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database[0]), role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            role
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(role),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(role),
        # The schema version and the admins are the administrator's to change (the admins
        # table's row-level security refuses users' writes as well).
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON fusionpipe_schema FROM {}").format(role),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON fusionpipe_admins FROM {}").format(role),
    ]
    for statement in statements:
        conn.execute(statement)
