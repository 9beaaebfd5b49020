"""REST handlers for undo and redo of a user's graph edits in a pipeline."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler


class UndoHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, pipeline_id: str) -> None:
        self.reply(await self.service.undo.stacks(self.username, pipeline_id))

    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        self.reply(await self.service.undo.undo(self.username, pipeline_id))


class RedoHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        self.reply(await self.service.undo.redo(self.username, pipeline_id))
