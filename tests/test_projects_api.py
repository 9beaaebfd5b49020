"""The projects REST API against a real PostgreSQL, through a real Jupyter server."""

from __future__ import annotations

import getpass
import json

from tornado.httpclient import HTTPClientError


async def test_a_new_database_has_no_projects(api):
    status, body = await api("GET", "projects")
    assert status == 200
    assert body == {"projects": []}


async def test_create_project_answers_201_with_location_and_lists_it(api, jp_fetch):
    response = await jp_fetch(
        "fusionpipe", "api", "projects", method="POST", body='{"tag": "alpha", "notes": "n"}'
    )
    assert response.code == 201
    project = json.loads(response.body)
    assert project["id"].startswith("pr_")
    assert (project["tag"], project["notes"]) == ("alpha", "n")
    assert project["owner"] == getpass.getuser()
    assert response.headers["Location"].endswith(f"/fusionpipe/api/projects/{project['id']}")

    status, listed = await api("GET", "projects")
    assert status == 200
    assert [p["id"] for p in listed["projects"]] == [project["id"]]

    status, fetched = await api("GET", f"projects/{project['id']}")
    assert (status, fetched) == (200, project)


async def test_tag_defaults_to_the_id_and_is_trimmed(api):
    _, untagged = await api("POST", "projects", {})
    assert untagged["tag"] == untagged["id"]
    _, spaced = await api("POST", "projects", {"tag": "  beta  "})
    assert spaced["tag"] == "beta"


async def test_projects_list_in_creation_order(api):
    ids = [(await api("POST", "projects", {"tag": f"p{i}"}))[1]["id"] for i in range(5)]
    _, listed = await api("GET", "projects")
    assert [p["id"] for p in listed["projects"]] == ids


async def test_malformed_json_is_a_400_naming_the_problem(api):
    status, body = await api("POST", "projects", raw=b'{"tag": ')
    assert status == 400
    assert "not valid JSON" in body["message"]


async def test_a_body_that_is_not_an_object_is_a_400(api):
    status, body = await api("POST", "projects", [1, 2])
    assert status == 400
    assert body["message"] == "the request body must be a JSON object"


async def test_wrong_field_types_and_empty_tags_are_400s_naming_the_field(api):
    status, body = await api("POST", "projects", {"tag": 5})
    assert (status, body["message"]) == (400, "tag must be a string")
    status, body = await api("POST", "projects", {"notes": ["x"]})
    assert (status, body["message"]) == (400, "notes must be a string")
    status, body = await api("POST", "projects", {"tag": "   "})
    assert (status, body["message"]) == (400, "tag must not be empty")
    status, body = await api("POST", "projects", {"tag": "x" * 201})
    assert status == 400 and "tag" in body["message"]
    _, listed = await api("GET", "projects")
    assert listed["projects"] == []


async def test_unknown_project_is_a_404_naming_the_id(api):
    status, body = await api("GET", "projects/pr_doesnotexist")
    assert status == 404
    assert "pr_doesnotexist" in body["message"]


async def test_requests_without_credentials_are_refused(fp_server, jp_fetch):
    for method, body in (("GET", None), ("POST", '{"tag": "x"}')):
        try:
            await jp_fetch(
                "fusionpipe",
                "api",
                "projects",
                method=method,
                body=body,
                headers={"Authorization": ""},
            )
        except HTTPClientError as err:
            assert err.code == 401
        else:
            raise AssertionError(f"unauthenticated {method} was accepted")
