"""The authenticated websocket that pushes live events (statuses, runs, graph changes)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import websocket

from ..events import EventHub


class EventsHandler(ExtensionHandlerMixin, JupyterHandler, websocket.WebSocketHandler):
    """Each message is one JSON event: ``{"event": "pipeline.changed", "pipeline_id": ...}``."""

    @property
    def hub(self) -> EventHub:
        return self.settings["fusionpipe_events"]

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
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

    def on_close(self) -> None:
        self.hub.unsubscribe(self.send)
