"""REST handlers for projects."""

from __future__ import annotations

from tornado import web

from .base import FusionpipeHandler, optional_str


class ProjectsHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self) -> None:
        projects = await self.service.projects.list()
        self.reply({"projects": [p.to_json() for p in projects]})

    @web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        project = await self.service.projects.create(
            owner=self.username,
            tag=optional_str(body, "tag"),
            notes=optional_str(body, "notes") or "",
        )
        self.created(project.to_json())


class ProjectHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, project_id: str) -> None:
        project = await self.service.projects.get(project_id)
        self.reply(project.to_json())

    @web.authenticated
    async def patch(self, project_id: str) -> None:
        body = self.json_object()
        project = await self.service.projects.update(
            project_id, tag=optional_str(body, "tag"), notes=optional_str(body, "notes")
        )
        self.reply(project.to_json())

    @web.authenticated
    async def delete(self, project_id: str) -> None:
        await self.service.projects.delete(project_id, cascade=self.flag("cascade"))
        self.no_content()


class ProjectGraphHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, project_id: str) -> None:
        self.reply(await self.service.projects.graph(project_id))
