"""REST handlers for a node's outputs: the listing of data/ and reports/, and one file's bytes."""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from tornado import web

from . import validation
from .api_schemas import OUTPUT_PATH
from .base import FusionpipeHandler

# Sent in pieces so a large file never sits in memory whole.
CHUNK = 1024 * 1024
# An output is the user's data, not the lab's page: a browser must never run what it holds
# (an SVG or HTML file can carry scripts) nor guess another type for it.
SAFE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "sandbox",
    "X-Content-Type-Options": "nosniff",
}


class OutputsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        self.reply(await self.service.outputs.listing(node_id, self.query("item")))


class OutputFileHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str, path: str) -> None:
        # What the document says a path is, so that no other spelling ("data//x") is served.
        validation.check(path, OUTPUT_PATH, "path")
        lines = self.query("head")
        for name, value in SAFE_HEADERS.items():
            self.set_header(name, value)
        if lines is not None:
            text = await self.service.outputs.head(node_id, path, lines)
            # APIHandler.finish sets the content type, to JSON unless told otherwise.
            self.finish(text, set_content_type="text/plain; charset=utf-8")
            return
        found = await self.service.outputs.file(node_id, path)
        self.set_header("Content-Type", found.content_type)
        self.set_header("Content-Length", str(found.size))
        with found.path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish(set_content_type=found.content_type)
