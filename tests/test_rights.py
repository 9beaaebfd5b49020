"""Who may do what: deleting, moving and locking are for the owner and the admins, while others
still read, run and add nodes; and PostgreSQL refuses the same to a user's own database role."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from test_runs_api import wait_run
from users import SeveralUsers, as_user

from fusionpipe_server.cli import admin
from fusionpipe_server.errors import Forbidden
from fusionpipe_server.service import Service, Settings
from fusionpipe_server.store.database import Database


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ServerApp"]["identity_provider_class"] = SeveralUsers
    jp_server_config["FusionpipeApp"]["admins"] = ["carol"]
    return jp_server_config


async def alices_pipeline(api):
    alice = as_user(api, "alice")
    _, project = await alice("POST", "projects", {"tag": "shared"})
    status, pipeline = await alice("POST", "pipelines", {"project_id": project["id"], "tag": "p"})
    assert status == 201 and pipeline["owner"] == "alice"
    status, node = await alice("POST", f"pipelines/{pipeline['id']}/nodes", {"tag": "a"})
    assert status == 201
    return project, pipeline, node


async def test_others_may_read_run_and_add_nodes_but_not_delete_move_or_lock(api):
    project, pipeline, node = await alices_pipeline(api)
    bob = as_user(api, "bob")
    _, elsewhere = await bob("POST", "projects", {"tag": "bob's"})
    url = f"pipelines/{pipeline['id']}"
    what = f"pipeline 'p' ({pipeline['id']})"
    refusals = [
        ("DELETE", url, None, f"only alice (the owner) or an admin may delete {what}"),
        ("PATCH", url, {"locked": True}, f"only alice (the owner) or an admin may lock {what}"),
        (
            "PATCH",
            url,
            {"project_id": elsewhere["id"]},
            f"only alice (the owner) or an admin may move {what}",
        ),
        (
            "DELETE",
            f"{url}/nodes/{node['id']}",
            None,
            f"only alice (the owner) or an admin may delete node 'a' ({node['id']})",
        ),
        (
            "DELETE",
            f"projects/{project['id']}",
            None,
            f"only alice (the owner) or an admin may delete project 'shared' ({project['id']})",
        ),
    ]
    for method, path, body, message in refusals:
        status, answer = await bob(method, path, body)
        assert (status, answer["message"]) == (403, message), (method, path)

    # Nothing changed, and bob still reads, edits, adds nodes and runs.
    _, graph = await bob("GET", url)
    assert (graph["locked"], graph["project_id"], [n["tag"] for n in graph["nodes"]]) == (
        False,
        project["id"],
        ["a"],
    )
    status, added = await bob("POST", f"{url}/nodes", {"tag": "by-bob"})
    assert (status, added["owner"]) == (201, "bob")
    status, _ = await bob("PATCH", url, {"notes": "bob was here"})
    assert status == 200
    status, run = await bob("POST", f"{url}/runs", {})
    assert status == 202
    finished = await wait_run(api, run["id"])
    assert (finished["status"], finished["requested_by"]) == ("completed", "bob")

    # The panel greys out what the server would refuse: it asks, the rule stays here.
    _, listed = await bob("GET", f"pipelines?project_id={project['id']}")
    assert [p["may_manage"] for p in listed["pipelines"]] == [False]
    _, listed = await as_user(api, "alice")("GET", f"pipelines?project_id={project['id']}")
    assert [p["may_manage"] for p in listed["pipelines"]] == [True]
    _, projects = await bob("GET", "projects")
    assert {p["tag"]: p["may_manage"] for p in projects["projects"]} == {
        "shared": False,
        "bob's": True,
    }


async def test_the_owner_and_an_admin_may(api):
    project, pipeline, node = await alices_pipeline(api)
    alice, carol = as_user(api, "alice"), as_user(api, "carol")
    assert (await carol("GET", "whoami"))[1] == {"username": "carol", "admin": True}
    _, listed = await carol("GET", f"pipelines?project_id={project['id']}")
    assert [p["may_manage"] for p in listed["pipelines"]] == [True]
    url = f"pipelines/{pipeline['id']}"
    assert (await carol("PATCH", url, {"locked": True}))[0] == 200
    assert (await alice("PATCH", url, {"locked": False}))[0] == 200
    assert (await carol("DELETE", f"{url}/nodes/{node['id']}"))[0] == 204
    assert (await alice("DELETE", url))[0] == 204
    other = await alices_pipeline(api)
    assert (await carol("DELETE", f"projects/{other[0]['id']}?cascade=true"))[0] == 204


async def test_a_pipeline_owner_removes_any_node_of_it_a_node_owner_their_own(api):
    _, pipeline, _ = await alices_pipeline(api)
    alice, bob, dave = as_user(api, "alice"), as_user(api, "bob"), as_user(api, "dave")
    url = f"pipelines/{pipeline['id']}/nodes"
    _, first = await bob("POST", url, {"tag": "b1"})
    _, second = await bob("POST", url, {"tag": "b2"})
    status, answer = await dave("DELETE", f"{url}/{first['id']}")
    assert status == 403
    assert answer["message"] == (
        f"only bob (the node's owner), alice (the pipeline's owner) or an admin may delete "
        f"node 'b1' ({first['id']})"
    )
    assert (await bob("DELETE", f"{url}/{first['id']}"))[0] == 204
    assert (await alice("DELETE", f"{url}/{second['id']}"))[0] == 204


async def test_a_project_takes_others_pipelines_only_for_whom_may_delete_them(api):
    alice, bob = as_user(api, "alice"), as_user(api, "bob")
    _, project = await alice("POST", "projects", {"tag": "group"})
    _, theirs = await bob("POST", "pipelines", {"project_id": project["id"], "tag": "bobs"})
    status, answer = await alice("DELETE", f"projects/{project['id']}?cascade=true")
    assert status == 403
    assert answer["message"] == (
        f"only bob (the owner) or an admin may delete pipeline 'bobs' ({theirs['id']}), "
        f"which project 'group' ({project['id']}) holds"
    )
    assert (await bob("DELETE", f"pipelines/{theirs['id']}"))[0] == 204
    assert (await alice("DELETE", f"projects/{project['id']}"))[0] == 204


def user_dsn(database_url: str, name: str) -> str:
    return make_conninfo(database_url, user=name)


@pytest.fixture
def user_roles(database_url):
    """alice and bob as their own database roles (as `fusionpipe admin add-user` makes them,
    peer authentication on a shared server), members of the users role."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        admin.init_db(conn)
        for name in ("alice", "bob"):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                admin.add_user(conn, name)
        # Roles are the cluster's, not the database's: grants on this database for them.
        admin.roles.grant_row_rights(conn, admin.USERS_ROLE)
    return {name: user_dsn(database_url, name) for name in ("alice", "bob")}


def count(conn, table, row_id, column="id"):
    query = f"SELECT count(*) FROM {table} WHERE {column} = %s"
    return conn.execute(query, (row_id,)).fetchone()[0]


async def test_postgresql_refuses_a_users_role_what_the_service_refuses(
    api, user_roles, database_url
):
    project, pipeline, node = await alices_pipeline(api)
    with psycopg.connect(user_roles["bob"], autocommit=True) as bob:
        assert bob.execute("SELECT current_user").fetchone()[0] == "bob"
        # Deleting is filtered to nothing: the rows stay.
        for table, row_id, column in (
            ("pipelines", pipeline["id"], "id"),
            ("nodes", node["id"], "id"),
            ("pipeline_nodes", node["id"], "node_id"),
            ("projects", project["id"], "id"),
        ):
            assert bob.execute(f"DELETE FROM {table} WHERE {column} = %s", (row_id,)).rowcount == 0
            assert count(bob, table, row_id, column) == 1, table
        # Owner-only changes are refused outright; others go through.
        for change in ("locked = true", f"project_id = '{project['id']}x'", "owner = 'bob'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bob.execute(f"UPDATE pipelines SET {change} WHERE id = %s", (pipeline["id"],))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("UPDATE nodes SET owner = 'bob' WHERE id = %s", (node["id"],))
        bob.execute("UPDATE pipelines SET notes = 'by bob' WHERE id = %s", (pipeline["id"],))
        # Making oneself an admin is refused, and a temporary table of the same name is not
        # what the policies read.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("INSERT INTO fusionpipe_admins VALUES ('bob')")
        bob.execute("CREATE TEMP TABLE fusionpipe_admins (name text)")
        bob.execute("INSERT INTO fusionpipe_admins VALUES ('bob')")
        assert bob.execute("DELETE FROM pipelines WHERE id = %s", (pipeline["id"],)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("UPDATE pipelines SET locked = true WHERE id = %s", (pipeline["id"],))

    # The owner may, through the same policies.
    with psycopg.connect(user_roles["alice"], autocommit=True) as alice:
        alice.execute("UPDATE pipelines SET locked = true WHERE id = %s", (pipeline["id"],))
        assert alice.execute("DELETE FROM nodes WHERE id = %s", (node["id"],)).rowcount == 1

    # So may an admin the database knows (set as its owner, as `fusionpipe admin admins set`).
    with psycopg.connect(database_url, autocommit=True) as owner:
        owner.execute("INSERT INTO fusionpipe_admins VALUES ('bob')")
    with psycopg.connect(user_roles["bob"], autocommit=True) as bob:
        assert bob.execute("DELETE FROM pipelines WHERE id = %s", (pipeline["id"],)).rowcount == 1


async def test_a_server_on_a_users_role_works_and_the_database_has_the_last_word(
    user_roles, database_url, data_path
):
    db = Database(user_roles["alice"], max_size=2)
    await db.open()
    try:
        await alice_on_her_role(db, data_path)
    finally:
        await db.close()


async def alice_on_her_role(db, data_path):
    """The services connected as alice's role (``db``), as a server on a shared database is:
    what alice may do works; where this server's admins setting is stale, PostgreSQL's
    row-level security still refuses, and the service says so instead of claiming success."""
    stale = Settings(data_path=data_path, admins=frozenset({"alice"}))
    service = Service(db, stale)
    await service.rights.load(db, stale.admins)
    assert service.rights.admins == frozenset(), "alice's role may not make herself admin"
    project = await service.projects.create("bob", "bobs")
    pipeline = await service.pipelines.create("bob", project.id, "p")
    with pytest.raises(Forbidden, match="only bob"):
        await service.pipelines.delete("alice", pipeline.id)
    service.rights.admins = frozenset({"alice"})  # as a server that skipped the load
    with pytest.raises(Forbidden, match="the database refused to delete"):
        await service.pipelines.delete("alice", pipeline.id)
    with pytest.raises(Forbidden, match="the database refused"):
        await service.pipelines.update("alice", pipeline.id, locked=True)
    assert (await service.pipelines.find(pipeline.id)).locked is False
    mine = await service.pipelines.create("alice", project.id, "mine")
    node = await service.nodes.create("alice", mine.id, tag="n")
    await service.pipelines.update("alice", mine.id, locked=True)
    await service.pipelines.update("alice", mine.id, locked=False)
    await service.nodes.delete("alice", mine.id, node["id"])
    await service.pipelines.delete("alice", mine.id)
    pipeline_item, node_item = await service.trash.listing("alice")
    assert (pipeline_item.tag, node_item.tag) == ("mine", "n")
    # Restoring and purging lock the item first: row-level security lets alice's role.
    await service.trash.restore("alice", pipeline_item.id)
    await service.trash.restore("alice", node_item.id)
    graph = await service.pipelines.graph(mine.id)
    assert [n["tag"] for n in graph["nodes"]] == ["n"]
    item = await service.pipelines.delete("alice", mine.id)
    await service.trash.purge("alice", item.id)
    assert await service.trash.listing("alice") == []


def fusionpipe_admin(*args):
    return subprocess.run(
        [sys.executable, "-m", "fusionpipe_server.cli", "admin", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_database_owner_names_the_admins_a_user_cannot(user_roles, database_url):
    done = fusionpipe_admin("admins", "set", "carol", "dave", "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    listed = fusionpipe_admin("admins", "--database-url", user_roles["bob"])
    assert listed.stdout.strip() == "fusionpipe: admins: carol, dave"
    refused = fusionpipe_admin("admins", "set", "bob", "--database-url", user_roles["bob"])
    assert refused.returncode != 0
    assert "only the database's owner may set the admins" in refused.stderr
    refused = fusionpipe_admin("admins", "set", "--database-url", user_roles["bob"])
    assert refused.returncode != 0, "removing admins is the owner's too"
    with psycopg.connect(database_url) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM fusionpipe_admins ORDER BY 1")]
    assert names == ["carol", "dave"]
