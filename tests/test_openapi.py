"""The OpenAPI document lists exactly the routes and verbs the handlers serve."""

from __future__ import annotations

import re

from fusionpipe_server.handlers import API, handlers

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
