"""Projects and pipelines through the REST API: lifecycle, lineage graph, locking, refusals."""

from __future__ import annotations


async def new_project(api, tag="tokamak"):
    status, body = await api("POST", "projects", {"tag": tag})
    assert status == 201
    return body


async def new_pipeline(api, project_id, tag=None, **fields):
    status, body = await api(
        "POST", "pipelines", {"project_id": project_id, **({"tag": tag} if tag else {}), **fields}
    )
    assert status == 201, body
    return body


async def test_project_tag_and_notes_can_change(api):
    project = await new_project(api)
    status, body = await api("PATCH", f"projects/{project['id']}", {"tag": "jet", "notes": "2026"})
    assert status == 200
    assert (body["tag"], body["notes"]) == ("jet", "2026")
    _, fetched = await api("GET", f"projects/{project['id']}")
    assert (fetched["tag"], fetched["notes"]) == ("jet", "2026")
    status, body = await api("PATCH", "projects/pr_missing", {"tag": "x"})
    assert status == 404


async def test_pipeline_create_list_get(api):
    project = await new_project(api)
    created = await new_pipeline(api, project["id"], "shot-42", notes="first")
    assert created["id"].startswith("p_")
    assert (created["tag"], created["notes"], created["locked"]) == ("shot-42", "first", False)
    assert created["project_id"] == project["id"]

    _, listed = await api("GET", f"pipelines?project_id={project['id']}")
    assert [p["id"] for p in listed["pipelines"]] == [created["id"]]
    _, other = await api("GET", "pipelines?project_id=pr_nothing")
    assert other["pipelines"] == []

    status, graph = await api("GET", f"pipelines/{created['id']}")
    assert status == 200
    assert graph["id"] == created["id"]
    assert (graph["nodes"], graph["edges"], graph["groups"]) == ([], [], [])


async def test_pipeline_refusals_name_the_problem(api):
    project = await new_project(api)
    status, body = await api("POST", "pipelines", {"tag": "x"})
    assert (status, body["message"]) == (400, "project_id is required")
    status, body = await api("POST", "pipelines", {"project_id": "pr_nope"})
    assert status == 404 and "pr_nope" in body["message"]
    await new_pipeline(api, project["id"], "unique")
    status, body = await api("POST", "pipelines", {"project_id": project["id"], "tag": "unique"})
    assert status == 409 and "unique" in body["message"]
    status, body = await api("GET", "pipelines/p_missing")
    assert status == 404 and "p_missing" in body["message"]
    status, body = await api("PATCH", "pipelines/p_missing", {"tag": "y"})
    assert status == 404
    status, body = await api("DELETE", "pipelines/p_missing")
    assert status == 404


async def test_pipeline_rename_refuses_a_taken_tag(api):
    project = await new_project(api)
    first = await new_pipeline(api, project["id"], "a")
    await new_pipeline(api, project["id"], "b")
    status, body = await api("PATCH", f"pipelines/{first['id']}", {"tag": "b"})
    assert status == 409 and "'b'" in body["message"]
    status, _ = await api("PATCH", f"pipelines/{first['id']}", {"tag": "a"})
    assert status == 200, "keeping its own tag is not a clash"


async def test_locked_pipeline_refuses_changes_until_unlocked(api):
    project = await new_project(api)
    pipeline = await new_pipeline(api, project["id"], "frozen")
    status, body = await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": True})
    assert (status, body["locked"]) == (200, True)
    status, body = await api("PATCH", f"pipelines/{pipeline['id']}", {"tag": "thawed"})
    assert status == 409 and "locked" in body["message"]
    status, body = await api("DELETE", f"pipelines/{pipeline['id']}")
    assert status == 409 and "locked" in body["message"]
    status, body = await api("PATCH", f"pipelines/{pipeline['id']}", {"locked": False, "tag": "t"})
    assert (status, body["locked"], body["tag"]) == (200, False, "t")


async def test_move_pipeline_to_another_project(api):
    project = await new_project(api)
    pipeline = await new_pipeline(api, project["id"])
    _, other = await api("POST", "projects", {"tag": "other"})
    status, body = await api("PATCH", f"pipelines/{pipeline['id']}", {"project_id": other["id"]})
    assert (status, body["project_id"]) == (200, other["id"])
    status, body = await api("PATCH", f"pipelines/{pipeline['id']}", {"project_id": "pr_void"})
    assert status == 404


async def test_project_delete_refuses_while_it_holds_pipelines_unless_cascade(api):
    project = await new_project(api)
    pipeline = await new_pipeline(api, project["id"])
    status, body = await api("DELETE", f"projects/{project['id']}")
    assert status == 409 and "cascade" in body["message"]
    status, _ = await api("DELETE", f"projects/{project['id']}?cascade=maybe")
    assert status == 400
    status, _ = await api("DELETE", f"projects/{project['id']}?cascade=true")
    assert status == 204
    assert (await api("GET", f"projects/{project['id']}"))[0] == 404
    assert (await api("GET", f"pipelines/{pipeline['id']}"))[0] == 404
    # Both in one trash item, to be restored together.
    _, trash = await api("GET", "trash")
    assert [(i["kind"], i["item_id"], i["counts"]) for i in trash["items"]] == [
        ("project", project["id"], {"pipelines": 1, "nodes": 0})
    ]


async def test_empty_project_deletes_without_cascade(api):
    project = await new_project(api)
    status, _ = await api("DELETE", f"projects/{project['id']}")
    assert status == 204
    _, listed = await api("GET", "projects")
    assert listed["projects"] == []


async def test_positions_are_validated(api):
    project = await new_project(api)
    pipeline = await new_pipeline(api, project["id"])
    url = f"pipelines/{pipeline['id']}/positions"
    status, body = await api("POST", url, {"positions": []})
    assert status == 400 and "positions" in body["message"]
    status, body = await api("POST", url, {"positions": {"n_x": {"x": "a", "y": 1}}})
    assert status == 400 and "positions.n_x.x" in body["message"]
    status, body = await api("POST", url, {"positions": {"n_x": {"x": 1, "y": 2}}})
    assert status == 404 and "n_x" in body["message"]
