"""Hostile and careless input against a real server: every refusal is a JSON 4xx naming the field,
nothing is half-saved, and the event loop keeps answering other requests meanwhile."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from test_nodes_api import add_node, setup_pipeline

from fusionpipe_server.folders.identity import IDENTITY_FILE

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def parameters_file(node) -> Path:
    return Path(node["folder"]) / "code" / "node_parameters.yaml"


async def test_an_alias_bomb_is_refused_at_once_while_other_requests_are_answered(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    before = parameters_file(node).read_text()
    latencies: list[float] = []
    refused = asyncio.Event()

    async def keep_asking():
        while not refused.is_set():
            started = time.perf_counter()
            status, _ = await api("GET", "projects")
            latencies.append(time.perf_counter() - started)
            assert status == 200

    async def send_bomb():
        started = time.perf_counter()
        status, body = await api("PUT", f"nodes/{node['id']}/parameters", {"content": BOMB})
        elapsed = time.perf_counter() - started
        refused.set()
        return status, body, elapsed

    (status, body, elapsed), _ = await asyncio.gather(send_bomb(), keep_asking())
    assert status == 400 and "alias" in body["message"], body
    assert elapsed < 2.0
    # An unbounded parse of the bomb holds the event loop for minutes; one second tells that
    # apart from a loaded machine (0.1 s here failed once beside the browser specs: 0.104 s).
    assert latencies and max(latencies) < 1.0, latencies
    assert parameters_file(node).read_text() == before, "a refused file was written"
    # The node is still usable: a later change is applied and answered normally.
    status, saved = await api("PUT", f"nodes/{node['id']}/parameters", {"content": "x: 1\n"})
    assert (status, saved["parameters"]) == (200, {"x": 1})


async def test_yaml_values_json_cannot_hold_are_converted_or_refused_before_saving(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    before = parameters_file(node).read_text()
    path = f"nodes/{node['id']}/parameters"
    for content, words in (
        ("s: !!set {a, b}\n", "!!set"),
        ("b: !!binary aGVsbG8=\n", "!!binary"),
        ("deep: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested deeper"),
        ("x: '" + "é" * 40_000 + "'\n", "larger than"),
        ("p: !!python/object:os.system ls\n", "line 1"),
    ):
        status, body = await api("PUT", path, {"content": content})
        assert status == 400 and words in body["message"], (content[:30], body)
        assert parameters_file(node).read_text() == before
    dates = "day: 2024-01-02\nat: 2024-01-02 10:00:00\n"
    status, saved = await api("PUT", path, {"content": dates})
    assert status == 200, saved
    assert saved["parameters"] == {"day": "2024-01-02", "at": "2024-01-02T10:00:00"}
    identity = json.loads((Path(node["folder"]) / IDENTITY_FILE).read_text())
    assert identity["parameters"]["day"] == "2024-01-02"


async def test_text_postgresql_or_utf8_cannot_hold_is_a_400_naming_the_field(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    for path, method, raw, field in (
        ("projects", "POST", b'{"tag": "a\\u0000b"}', "tag"),
        ("projects", "POST", b'{"notes": "x\\u0000"}', "notes"),
        ("projects", "POST", b'{"tag": "\\ud800"}', "tag"),
        (f"pipelines/{pipeline['id']}", "PATCH", b'{"notes": "\\udfff x"}', "notes"),
        (f"pipelines/{pipeline['id']}/nodes/{node['id']}", "PATCH", b'{"tag": "\\u0000"}', "tag"),
    ):
        status, body = await api(method, path, raw=raw)
        assert status == 400 and body["message"].startswith(field), (path, raw, body)
    _, listed = await api("GET", "projects")
    assert len(listed["projects"]) == 1


async def test_deep_json_huge_numbers_and_bad_bounds_are_400s(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    nodes_path = f"pipelines/{pipeline['id']}/nodes"
    huge = str(10**400)
    cases = [
        ("POST", "projects", b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
        ("POST", "projects", b'{"tag": ' * 10_000 + b"1" + b"}" * 10_000, "nested too deeply"),
        ("POST", nodes_path, f'{{"position": {{"x": {huge}, "y": 0}}}}'.encode(), "position.x"),
        ("POST", nodes_path, b'{"position": {"x": NaN, "y": 0}}', "NaN"),
        ("POST", nodes_path, ('{"position": {"x": 1%s, "y": 0}}' % ("0" * 5000)).encode(), "large"),
        (
            "POST",
            f"pipelines/{pipeline['id']}/groups",
            json.dumps({"node_ids": [node["id"]], "size": {"width": -5, "height": 10}}).encode(),
            "size.width",
        ),
        (
            "POST",
            f"pipelines/{pipeline['id']}/groups",
            f'{{"node_ids": ["{node["id"]}"], "size": {{"width": {huge}, "height": 1}}}}'.encode(),
            "size.width",
        ),
    ]
    for method, path, raw, words in cases:
        status, body = await api(method, path, raw=raw)
        assert status == 400 and words in body["message"], (path, raw[:40], body)
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert len(graph["nodes"]) == 1 and graph["groups"] == []


async def test_query_numbers_are_ascii_digits_within_bounds(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    for path in (f"pipelines/{pipeline['id']}/runs", f"nodes/{node['id']}/runs"):
        for bad in ("²", "1e20", "99999999999999999999", "0", "-1", "٣"):
            status, body = await api("GET", f"{path}?limit={bad}")
            assert status == 400 and body["message"].startswith("limit"), (path, bad, body)
        assert (await api("GET", f"{path}?limit=3"))[0] == 200
    for bad in ("²", "1e20", "0"):
        status, body = await api("GET", f"nodes/{node['id']}/log?tail={bad}")
        assert status == 400 and body["message"].startswith("tail"), (bad, body)


async def test_patching_a_group_checks_its_tag_like_creating_one(api):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    status, group = await api(
        "POST", f"pipelines/{pipeline['id']}/groups", {"node_ids": [node["id"]], "tag": "g"}
    )
    assert status == 201, group
    for tag, words in (("   ", "must not be empty"), ("x" * 201, "longer than"), (5, "string")):
        status, body = await api("PATCH", f"groups/{group['id']}", {"tag": tag})
        assert status == 400 and body["message"].startswith("tag") and words in body["message"]
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert graph["groups"][0]["tag"] == "g"


async def test_unknown_addresses_of_any_shape_are_json_404s(api):
    for path in ("projects/pr.x", "projects/a%2Fb", "nope", "projects/pr_x/graph/more", "runs/%20"):
        status, body = await api("GET", path)
        assert status == 404 and "message" in body, (path, body)


async def test_a_verb_a_route_does_not_serve_is_a_405_with_allow(fp_server, jp_fetch):
    response = await jp_fetch("fusionpipe", "api", "projects", method="DELETE", raise_error=False)
    assert response.code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert "DELETE" in json.loads(response.body)["message"]


async def test_a_post_to_the_events_websocket_is_a_json_405(fp_server, jp_fetch, caplog):
    response = await jp_fetch(
        "fusionpipe", "api", "events", method="POST", body=b"{}", raise_error=False
    )
    assert response.code == 405
    assert response.headers["Allow"] == "GET"
    assert "message" in json.loads(response.body)
    plain = await jp_fetch("fusionpipe", "api", "events", raise_error=False)
    assert plain.code == 400 and "websocket" in json.loads(plain.body)["message"]
    assert "Uncaught exception" not in caplog.text


async def test_taking_the_same_tag_at_the_same_moment_is_one_201_and_409s(api):
    _, project = await api("POST", "projects", {"tag": "race"})
    created = await asyncio.gather(
        *(api("POST", "pipelines", {"project_id": project["id"], "tag": "same"}) for _ in range(8))
    )
    codes = sorted(status for status, _ in created)
    assert codes == [201] + [409] * 7, created
    assert all("tag" in body["message"] for status, body in created if status == 409)

    others = [
        (await api("POST", "pipelines", {"project_id": project["id"], "tag": f"o{i}"}))[1]
        for i in range(6)
    ]
    renamed = await asyncio.gather(
        *(api("PATCH", f"pipelines/{p['id']}", {"tag": "renamed"}) for p in others)
    )
    assert sorted(status for status, _ in renamed) == [200] + [409] * 5, renamed
    _, listed = await api("GET", f"pipelines?project_id={project['id']}")
    tags = [p["tag"] for p in listed["pipelines"]]
    assert tags.count("same") == 1 and tags.count("renamed") == 1
