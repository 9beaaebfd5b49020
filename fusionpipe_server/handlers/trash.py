"""REST handlers for the trash: list it, restore or purge an item, empty it."""

from __future__ import annotations

from datetime import timedelta

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler


class TrashHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        items = await self.service.trash.listing(self.username)
        self.reply({"items": [item.to_json() for item in items]})

    @web.authenticated
    @authorized("write")
    async def delete(self) -> None:
        days = self.query("older_than_days")
        older_than = None if days is None else timedelta(days=days)
        purged = await self.service.trash.empty(self.username, older_than)
        self.reply({"purged": [item.to_json() for item in purged]})


class TrashItemHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def delete(self, trash_id: str) -> None:
        await self.service.trash.purge(self.username, trash_id)
        self.no_content()


class RestoreHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, trash_id: str) -> None:
        item = await self.service.trash.restore(self.username, trash_id)
        self.reply(item.to_json())
