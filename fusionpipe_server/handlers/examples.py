"""REST handler for the example pipeline offered on first run."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler


class ExamplesHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        """A new example pipeline, in a project of its own."""
        pipeline = await self.service.examples.create(self.username)
        self.reply(self.with_rights(pipeline), status=201)
