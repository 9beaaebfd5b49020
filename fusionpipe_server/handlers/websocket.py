"""The authenticated websocket that pushes live events (statuses, runs, graph changes)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web, websocket

from ..live.hub import EventHub
from .base import AUTH_RESOURCE, write_json_error


class EventsHandler(ExtensionHandlerMixin, JupyterHandler, websocket.WebSocketHandler):
    """Each message is one JSON event: ``{"event": "pipeline.changed", "pipeline_id": ...}``."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str, api_path: str = "", **kwargs: Any) -> None:
        self.api_path = api_path
        super().initialize(name, **kwargs)

    @property
    def hub(self) -> EventHub:
        return self.settings["fusionpipe_events"]

    @ws_authenticated
    @authorized("read")  # untyped decorator: mypy no longer sees the method's signature
    async def get(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self.request.headers.get("Upgrade", "").lower() != "websocket":
            # tornado would answer this in plain text; every API error is JSON.
            raise web.HTTPError(400, "this address is a websocket: connect with Upgrade: websocket")
        result = super().get(*args, **kwargs)
        if result is not None:
            await result

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.hub.subscribe(self.send)

    def send(self, payload: str) -> None:
        try:
            self.write_message(payload)
        except websocket.WebSocketClosedError:
            self.hub.unsubscribe(self.send)

    def on_message(self, message: str | bytes) -> None:
        """Clients only listen."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Another verb (POST...) ends here before any websocket exists: answer like the API.
        write_json_error(self, status_code, **kwargs)

    def on_close(self) -> None:
        self.hub.unsubscribe(self.send)
