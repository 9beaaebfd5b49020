"""The OpenAPI document lists exactly the routes and verbs the handlers serve, and every one of
them refuses a caller without credentials, or a browser without the XSRF token."""

from __future__ import annotations

import http.cookies
import json
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from fusionpipe_server.handlers import ROUTES, openapi


@pytest.fixture
def jp_server_config(jp_server_config):
    # As jupyter_server's default: then only each handler's own authentication protects it,
    # which is what the test of every route below checks.
    jp_server_config["ServerApp"]["allow_unauthenticated_access"] = True
    return jp_server_config


VERBS = ("get", "post", "put", "patch", "delete")


def served() -> set[tuple[str, str]]:
    routes = set()
    for path, handler in ROUTES:
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
    documented |= {(path, "get") for path in document["x-websockets"]}
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
            assert response.code in (302, 401), (verb, path, response.code)


async def test_a_browser_session_must_send_the_xsrf_token_to_write(api, jp_fetch, jp_serverapp):
    """A logged-in browser (cookie, no token header) is refused a write without the XSRF token:
    another site's page cannot make the user's browser create or delete anything."""
    anonymous = {"Authorization": ""}
    login_page = await jp_fetch("login", headers=anonymous, raise_error=False)
    xsrf = _cookies(login_page)["_xsrf"]
    form = urllib.parse.urlencode({"password": jp_serverapp.identity_provider.token, "_xsrf": xsrf})
    login = await jp_fetch(
        "login",
        method="POST",
        body=form,
        headers={**anonymous, "Cookie": f"_xsrf={xsrf}"},
        raise_error=False,
        follow_redirects=False,
    )
    assert login.code == 302, login.body
    cookie = "; ".join(f"{name}={value}" for name, value in _cookies(login).items())
    browser = {**anonymous, "Cookie": f"{cookie}; _xsrf={xsrf}"}

    async def create(headers: dict[str, str]) -> Any:
        return await jp_fetch(
            "fusionpipe",
            "api",
            "projects",
            method="POST",
            body=json.dumps({"tag": "from-a-browser"}),
            headers=headers,
            raise_error=False,
        )

    listed = await jp_fetch("fusionpipe", "api", "projects", headers=browser, raise_error=False)
    assert listed.code == 200  # the session cookie alone is enough to read
    assert (await create(browser)).code == 403
    assert (await create({**browser, "X-XSRFToken": xsrf})).code == 201
    _, body = await api("GET", "projects")
    assert [project["tag"] for project in body["projects"]] == ["from-a-browser"]


def _cookies(response: Any) -> dict[str, str]:
    jar = http.cookies.SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "src" / "api" / "schema.d.ts"


def test_the_panels_generated_api_types_are_current(tmp_path):
    """src/api/schema.d.ts is what `jlpm gen:api` makes of today's document: a change of the
    API that was not carried over to the panel's types fails here."""
    tools = ROOT / "node_modules" / ".bin"
    assert (tools / "openapi-typescript").exists(), "run `jlpm install` first"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi.document(), indent=2, sort_keys=True))
    typed = subprocess.run(
        [tools / "openapi-typescript", document], capture_output=True, text=True, check=True
    ).stdout
    formatted = subprocess.run(
        [tools / "prettier", "--stdin-filepath", GENERATED],
        input=typed,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert formatted == GENERATED.read_text(), "the API changed: run `jlpm gen:api`"


def test_the_parameters_text_schema_allows_what_yaml_reads():
    """`content` of PUT nodes/{id}/parameters refuses exactly the characters YAML cannot hold
    (schemathesis found schema-valid text with control characters refused with a 400)."""
    schema = openapi.operation("/nodes/{node_id}/parameters", "put")
    pattern = schema["requestBody"]["content"]["application/json"]["schema"]["properties"]
    content = pattern["content"]["pattern"]
    for code in [*range(0x00, 0xA1), 0x2028, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF]:
        text = f"x: '{chr(code)}'\n"
        try:
            yaml.safe_load(text)
            readable = True
        except yaml.reader.ReaderError:
            readable = False
        except yaml.YAMLError:
            readable = True  # a character YAML reads, in a place it does not want it
        assert (re.search(content, text) is not None) == readable, hex(code)
