"""REST handlers for pipelines: the collection, one pipeline's graph, and its layout."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler, size, xy


class PipelinesHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        pipelines = await self.service.pipelines.list(self.query("project_id"))
        self.reply({"pipelines": [self.with_rights(p) for p in pipelines]})

    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        body = self.body()
        pipeline = await self.service.pipelines.create(
            owner=self.username,
            project_id=body["project_id"],
            tag=body.get("tag"),
            notes=body.get("notes") or "",
        )
        self.created(self.with_rights(pipeline))


class PipelineHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, pipeline_id: str) -> None:
        self.reply_json_text(await self.service.pipelines.graph_json(pipeline_id))

    @web.authenticated
    @authorized("write")
    async def patch(self, pipeline_id: str) -> None:
        body = self.body()
        pipeline = await self.service.pipelines.update(
            self.username,
            pipeline_id,
            tag=body.get("tag"),
            notes=body.get("notes"),
            project_id=body.get("project_id"),
            locked=body.get("locked"),
        )
        self.reply(self.with_rights(pipeline))

    @web.authenticated
    @authorized("write")
    async def delete(self, pipeline_id: str) -> None:
        await self.service.pipelines.delete(self.username, pipeline_id)
        self.no_content()


class PositionsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        positions = {node_id: xy(where) for node_id, where in body["positions"].items()}
        groups = {
            group_id: (xy(box["position"]), size(box.get("size")))
            for group_id, box in body.get("groups", {}).items()
        }
        await self.service.pipelines.move_nodes(
            self.username,
            pipeline_id,
            positions,
            groups,
            auto_layout=body.get("auto_layout", False),
        )
        self.no_content()
