"""The live-events websocket, fed by PostgreSQL NOTIFY from this server and from others."""

from __future__ import annotations

import asyncio
import json

import psycopg
from tornado.httpclient import HTTPClientError


async def next_event(ws, timeout=10.0):
    message = await asyncio.wait_for(ws.read_message(), timeout)
    assert message is not None, "the websocket closed"
    return json.loads(message)


async def test_changes_made_through_the_api_are_pushed(api, jp_ws_fetch):
    ws = await jp_ws_fetch("fusionpipe", "api", "events")
    _, project = await api("POST", "projects", {"tag": "live"})
    event = await next_event(ws)
    assert event == {"event": "project.created", "project_id": project["id"]}
    ws.close()


async def test_changes_made_by_another_server_arrive_too(api, jp_ws_fetch, database_url):
    ws = await jp_ws_fetch("fusionpipe", "api", "events")
    # Another fusionpipe server announces on the same database, from its own connection.
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute(
            "SELECT pg_notify('fusionpipe', %s)",
            (json.dumps({"event": "pipeline.changed", "pipeline_id": "p_elsewhere"}),),
        )
    assert await next_event(ws) == {"event": "pipeline.changed", "pipeline_id": "p_elsewhere"}
    ws.close()


async def test_nothing_is_sent_for_a_rolled_back_change(api, jp_ws_fetch):
    ws = await jp_ws_fetch("fusionpipe", "api", "events")
    status, _ = await api("POST", "pipelines", {"project_id": "pr_missing"})
    assert status == 404
    _, project = await api("POST", "projects", {"tag": "after"})
    assert (await next_event(ws))["project_id"] == project["id"], "the failed create said nothing"
    ws.close()


async def test_the_websocket_needs_credentials(fp_server, jp_ws_fetch):
    try:
        await jp_ws_fetch("fusionpipe", "api", "events", headers={"Authorization": ""})
    except HTTPClientError as err:
        assert err.code in (302, 403), "refused: sent to the login page or forbidden"
    else:
        raise AssertionError("an unauthenticated websocket was accepted")
