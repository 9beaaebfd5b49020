"""REST handlers for projects."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler


class ProjectsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        projects = await self.service.projects.list()
        self.reply({"projects": [self.with_rights(p) for p in projects]})

    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        body = self.body()
        project = await self.service.projects.create(
            owner=self.username, tag=body.get("tag"), notes=body.get("notes") or ""
        )
        self.created(self.with_rights(project))


class ProjectHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, project_id: str) -> None:
        project = await self.service.projects.get(project_id)
        self.reply(self.with_rights(project))

    @web.authenticated
    @authorized("write")
    async def patch(self, project_id: str) -> None:
        body = self.body()
        project = await self.service.projects.update(
            project_id, tag=body.get("tag"), notes=body.get("notes")
        )
        self.reply(self.with_rights(project))

    @web.authenticated
    @authorized("write")
    async def delete(self, project_id: str) -> None:
        await self.service.projects.delete(
            self.username, project_id, cascade=self.query("cascade", False)
        )
        self.no_content()


class ProjectGraphHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, project_id: str) -> None:
        self.reply(await self.service.projects.graph(project_id))
