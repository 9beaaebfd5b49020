"""REST handlers for edges and node groups."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler, position, size, unique


class EdgesHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        edge = await self.service.edges.connect(
            self.username, pipeline_id, body["source"], body["target"]
        )
        self.created(edge.to_json())


class EdgeHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def delete(self, pipeline_id: str, edge_id: str) -> None:
        await self.service.edges.disconnect(self.username, pipeline_id, edge_id)
        self.no_content()


class GroupsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        group = await self.service.groups.create(
            self.username,
            pipeline_id,
            unique(body["node_ids"]),
            tag=body.get("tag"),
            position=position(body.get("position")),
            size=size(body.get("size")),
        )
        self.created(group.to_json())


class GroupHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def patch(self, group_id: str) -> None:
        body = self.body()
        group = await self.service.groups.update(
            self.username,
            group_id,
            tag=body.get("tag"),
            collapsed=body.get("collapsed"),
            position=position(body.get("position")),
            size=size(body.get("size")),
        )
        self.reply(group.to_json())

    @web.authenticated
    @authorized("write")
    async def delete(self, group_id: str) -> None:
        await self.service.groups.delete(self.username, group_id)
        self.no_content()
