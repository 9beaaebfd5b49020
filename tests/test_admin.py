"""``fusionpipe admin``: roles and grants, upgrades from every schema version, the shared data
folder and the health check, against a real PostgreSQL and real file permissions."""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys

import psycopg
import pytest
from conftest import create_database, drop_database
from psycopg import errors, sql

from fusionpipe_server.cli import admin
from fusionpipe_server.errors import Unavailable
from fusionpipe_server.store import schema


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def fresh_database(pg_admin_dsn):
    name = f"fp_admin_{secrets.token_hex(4)}"
    roles = []
    yield name, create_database(pg_admin_dsn, name), roles
    drop_database(pg_admin_dsn, name)
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        for role in reversed(roles):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_init_db_and_add_user_give_row_rights_only(fresh_database):
    _, dsn, roles = fresh_database
    users, alice = f"fp_users_{secrets.token_hex(3)}", f"alice_{secrets.token_hex(3)}"
    roles += [alice, users]
    for _ in range(2):  # idempotent
        result = cli("admin", "init-db", "--database-url", dsn, "--users-role", users)
        assert result.returncode == 0, result.stderr
    assert "schema already current" in result.stdout
    added = cli("admin", "add-user", alice, "--database-url", dsn, "--users-role", users)
    assert added.returncode == 0 and f"user {alice} created" in added.stdout
    again = cli("admin", "add-user", alice, "--database-url", dsn, "--users-role", users)
    assert "already existed" in again.stdout

    with psycopg.connect(make_user_dsn(dsn, alice), autocommit=True) as conn:
        conn.execute("INSERT INTO projects (id, tag, owner) VALUES ('pr_a', 'a', 'alice')")
        conn.execute("UPDATE projects SET notes = 'n' WHERE id = 'pr_a'")
        assert schema.current_version(conn) == schema.latest_version()
        for forbidden in (
            "CREATE TABLE mine (x int)",
            "DROP TABLE projects",
            "ALTER TABLE projects ADD COLUMN x int",
            "DELETE FROM fusionpipe_schema",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(forbidden)


def make_user_dsn(dsn, user):
    return psycopg.conninfo.make_conninfo(dsn, user=user)


def test_add_user_before_init_db_says_what_to_run(fresh_database):
    _, dsn, _ = fresh_database
    result = cli("admin", "add-user", "bob", "--database-url", dsn, "--users-role", "fp_nobody_x")
    assert result.returncode == 2 and "fusionpipe admin init-db" in result.stderr


# Every shipped version but the latest (numbers may skip: branches reserve theirs).
@pytest.mark.parametrize("start", [m.version for m in schema.migrations()][:-1])
def test_every_earlier_schema_version_upgrades_in_place_keeping_data(fresh_database, start):
    _, dsn, _ = fresh_database
    with psycopg.connect(dsn, autocommit=True) as conn:
        schema.migrate(conn, up_to=start)
        assert schema.current_version(conn) == start
        conn.execute("INSERT INTO projects (id, tag, owner) VALUES ('pr_old', 'old', 'x')")
        conn.execute(
            "INSERT INTO pipelines (id, project_id, tag, owner) "
            "VALUES ('p_old', 'pr_old', 'p', 'x')"
        )
        conn.execute(
            "INSERT INTO nodes (id, project_id, tag, owner, folder, status) "
            "VALUES ('n_old', 'pr_old', 'n', 'x', 'pr_old/n_old', 'completed')"
        )
        conn.execute("INSERT INTO pipeline_nodes (pipeline_id, node_id) VALUES ('p_old', 'n_old')")
    result = cli("admin", "migrate", "--database-url", dsn)
    assert result.returncode == 0, result.stderr
    assert f"from version {start} to {schema.latest_version()}" in result.stdout
    with psycopg.connect(dsn) as conn:
        assert schema.current_version(conn) == schema.latest_version()
        assert conn.execute("SELECT tag, status FROM nodes").fetchall() == [("n", "completed")]
        assert conn.execute("SELECT count(*) FROM pipeline_nodes").fetchone() == (1,)


@pytest.fixture
def shared_group():
    name = "users"
    try:
        return grp.getgrnam(name)
    except KeyError:
        pytest.fail("the test needs the standard 'users' group")


def test_init_data_dir_shares_the_folder_with_a_group(tmp_path, shared_group):
    data = tmp_path / "shared"
    (data / "pr_1" / "n_1").mkdir(parents=True, mode=0o755)
    (data / "pr_1" / "n_1" / "out.txt").write_text("x")
    (data / "pr_1" / "n_1" / "out.txt").chmod(0o644)
    data.chmod(0o755)
    result = cli("admin", "init-data-dir", str(data), "--group", shared_group.gr_name)
    assert result.returncode == 0, result.stderr
    assert "nothing for others" in result.stdout
    assert stat.S_IMODE(data.stat().st_mode) == 0o2770
    for folder in (data, data / "pr_1", data / "pr_1" / "n_1"):
        mode = folder.stat().st_mode
        assert folder.stat().st_gid == shared_group.gr_gid
        assert mode & stat.S_ISGID and mode & stat.S_IWGRP, folder
        assert not mode & stat.S_IRWXO, folder
    out = (data / "pr_1" / "n_1" / "out.txt").stat().st_mode
    assert out & stat.S_IWGRP and not out & stat.S_IRWXO
    getfacl = shutil.which("getfacl")
    assert getfacl, "the test needs Debian's acl package (make test installs it)"
    acl = subprocess.run([getfacl, str(data)], capture_output=True, text=True).stdout
    assert f"default:group:{shared_group.gr_name}:rwx" in acl
    assert "default:other::---" in acl and "\nother::---" in acl
    # Made later by anyone, under the most permissive umask: the default ACL decides.
    subprocess.run(
        ["/bin/sh", "-c", "umask 000; mkdir pr_1/new; echo x > pr_1/new/file"],
        cwd=data,
        check=True,
    )
    for made in (data / "pr_1" / "new", data / "pr_1" / "new" / "file"):
        mode = made.stat().st_mode
        assert not mode & stat.S_IRWXO and mode & stat.S_IRGRP and mode & stat.S_IWGRP, made
    # Idempotent: a second run changes nothing and still succeeds.
    again = cli("admin", "init-data-dir", str(data), "--group", shared_group.gr_name)
    assert again.returncode == 0, again.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o2770


def test_init_data_dir_unknown_group_and_non_root_get_clear_messages(tmp_path, shared_group):
    result = cli("admin", "init-data-dir", str(tmp_path), "--group", "no-such-group-fp")
    assert result.returncode == 2 and "groupadd no-such-group-fp" in result.stderr

    # As an ordinary user (a forked child: the interpreter under /root cannot be started anew).
    nobody = pwd.getpwnam("nobody")
    target = tmp_path / "owned-by-root"
    target.mkdir()
    tmp_path.chmod(0o755)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        message = "no error"
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            admin.init_data_dir(target, shared_group.gr_name)
        except Unavailable as err:
            message = err.message
        except BaseException as err:
            message = repr(err)
        os.write(writer, message.encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    message = os.read(reader, 4096).decode()
    assert "run this as root" in message and "sudo fusionpipe admin init-data-dir" in message
