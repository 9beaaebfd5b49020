"""``fusionpipe admin doctor`` behind a real PgBouncer (#25): it tells the three pool modes
apart (transaction: fine; session: a warning; statement: a problem), finds no pooler on a
direct URL, and refuses live events whose LISTEN would go through the pooler."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from bouncer import USERS, bouncer, cluster, cluster_dsn  # noqa: F401 (fixtures)

from fusionpipe_server.cli import admin
from fusionpipe_server.cli.check import Check


def doctor_says(dsn: str, events_dsn: str | None = None) -> dict[str, Check]:
    # A data folder of its own: the doctor walks what others can reach in it.
    with tempfile.TemporaryDirectory() as data:
        checks = admin.doctor(dsn, Path(data), events_dsn=events_dsn)
    return {check.name: check for check in checks}


@pytest.mark.parametrize("mode", ["session", "transaction", "statement"])
def test_the_doctor_tells_the_pooling_mode(cluster, bouncer, mode):  # noqa: F811
    pooler = bouncer(mode, pool_size=3)
    said = doctor_says(pooler.dsn("alice", USERS["alice"]), cluster_dsn(cluster, "alice"))
    pooling, events = said["connection pooling"], said["live events"]
    assert (events.ok, events.detail) == (
        True,
        "LISTEN on events_database_url, reaching PostgreSQL directly",
    )
    if mode == "transaction":
        assert (pooling.ok, pooling.warning) == (True, False)
        assert "transaction mode (PgBouncer): servers share" in pooling.detail
    elif mode == "session":
        assert (pooling.ok, pooling.warning) == (True, True)
        assert "session mode: it works, but" in pooling.detail
        assert "set pool_mode = transaction" in pooling.detail
    else:
        assert not pooling.ok
        assert "statement mode, which refuses the transactions" in pooling.detail
    # The schema was read all the same (in statement mode too).
    assert said["database"].ok, said["database"].detail


def test_the_doctor_refuses_events_through_pgbouncer(cluster, bouncer, tmp_path):  # noqa: F811
    """From the command line, as an admin runs it: without events_database_url the LISTEN
    connection would go through PgBouncer; with it (flag or environment) all is well."""
    pooler = bouncer("transaction")
    pooled, direct = pooler.dsn("alice", USERS["alice"]), cluster_dsn(cluster, "alice")

    def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "fusionpipe_server.cli", "admin", "doctor"]
        environment = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
        return subprocess.run(
            [*command, "--database-url", pooled, "--data-path", str(tmp_path), *args],
            env={**environment, "HOME": str(tmp_path), **(env or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    through = doctor()
    assert through.returncode == 1, through.stdout + through.stderr
    assert (
        "PROBLEM live events: database_url (no events_database_url set) goes through a pooler "
        "in transaction mode, where LISTEN does not work"
    ) in through.stdout
    assert "set events_database_url ($FUSIONPIPE_EVENTS_DATABASE_URL)" in through.stdout
    for fixed in (
        doctor("--events-database-url", direct),
        doctor(env={"FUSIONPIPE_EVENTS_DATABASE_URL": direct}),
    ):
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert "ok      connection pooling: database_url goes through a pooler in transaction" in (
            fixed.stdout
        )
        direct_events = "ok      live events: LISTEN on events_database_url, reaching PostgreSQL"
        assert f"{direct_events} directly" in fixed.stdout


def test_the_doctor_finds_no_pooler_on_a_direct_url(cluster):  # noqa: F811
    said = doctor_says(cluster_dsn(cluster, "alice"))
    assert said["connection pooling"].detail == "none: database_url leads to PostgreSQL itself"
    assert said["live events"].detail == (
        "LISTEN on database_url (no events_database_url set), reaching PostgreSQL directly"
    )
