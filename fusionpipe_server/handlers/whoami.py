"""Who the panel's user is, as fusionpipe records it (a run's ``requested_by``, an owner)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler


class WhoAmIHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        self.reply(
            {"username": self.username, "admin": self.service.rights.is_admin(self.username)}
        )
