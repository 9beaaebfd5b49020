"""REST handlers for projects."""

from __future__ import annotations

from jupyter_server.utils import url_path_join
from tornado import web

from .base import FusionpipeHandler, optional_str


class ProjectsHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self) -> None:
        projects = await self.service.list_projects()
        self.reply({"projects": [p.to_json() for p in projects]})

    @web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        project = await self.service.create_project(
            owner=self.username,
            tag=optional_str(body, "tag"),
            notes=optional_str(body, "notes") or "",
        )
        self.set_header("Location", url_path_join(self.request.path, project.id))
        self.reply(project.to_json(), status=201)


class ProjectHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, project_id: str) -> None:
        project = await self.service.get_project(project_id)
        self.reply(project.to_json())
