"""The OpenAPI document lists exactly the routes and verbs the handlers serve."""

from __future__ import annotations

import re

import pytest

from fusionpipe_server.handlers import API, handlers


@pytest.fixture
def jp_server_config(jp_server_config):
    # As jupyter_server's default: then only each handler's own authentication protects it,
    # which is what the test of every route below checks.
    jp_server_config["ServerApp"]["allow_unauthenticated_access"] = True
    return jp_server_config


VERBS = ("get", "post", "put", "patch", "delete")


def served() -> set[tuple[str, str]]:
    routes = set()
    for pattern, handler in handlers():
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.removeprefix(API))
        for verb in VERBS:
            if verb in vars(handler):
                routes.add((path, verb))
    return routes


async def test_openapi_matches_the_handlers(api):
    status, document = await api("GET", "openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.")
    documented = {
        (path, verb) for path, item in document["paths"].items() for verb in item if verb in VERBS
    }
    assert documented == served()
    for path, item in document["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            assert name in {p["name"] for p in item["parameters"]}, (path, name)


async def test_every_route_refuses_requests_without_credentials(api, jp_fetch):
    _, document = await api("GET", "openapi.json")
    for path, item in document["paths"].items():
        concrete = re.sub(r"{\w+}", "x_1", path).strip("/").split("/")
        for verb in (v for v in item if v in VERBS):
            response = await jp_fetch(
                "fusionpipe",
                "api",
                *concrete,
                method=verb.upper(),
                body=b"{}" if verb in ("post", "put", "patch") else None,
                headers={"Authorization": ""},
                raise_error=False,
                follow_redirects=False,
            )
            assert response.code in (302, 403), (verb, path, response.code)
