"""REST handlers for pipelines: the collection, one pipeline's graph, and its layout."""

from __future__ import annotations

from tornado import web

from ..errors import Invalid
from .base import FusionpipeHandler, optional_bool, optional_str, position, required_str


class PipelinesHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self) -> None:
        pipelines = await self.service.pipelines.list(self.get_argument("project_id", None))
        self.reply({"pipelines": [p.to_json() for p in pipelines]})

    @web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        pipeline = await self.service.pipelines.create(
            owner=self.username,
            project_id=required_str(body, "project_id"),
            tag=optional_str(body, "tag"),
            notes=optional_str(body, "notes") or "",
        )
        self.created(pipeline.to_json())


class PipelineHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, pipeline_id: str) -> None:
        self.reply_json_text(await self.service.pipelines.graph_json(pipeline_id))

    @web.authenticated
    async def patch(self, pipeline_id: str) -> None:
        body = self.json_object()
        pipeline = await self.service.pipelines.update(
            pipeline_id,
            tag=optional_str(body, "tag"),
            notes=optional_str(body, "notes"),
            project_id=optional_str(body, "project_id"),
            locked=optional_bool(body, "locked"),
        )
        self.reply(pipeline.to_json())

    @web.authenticated
    async def delete(self, pipeline_id: str) -> None:
        await self.service.pipelines.delete(pipeline_id)
        self.no_content()


class PositionsHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        raw = body.get("positions")
        if not isinstance(raw, dict):
            raise Invalid("positions must be an object of node id -> {x, y}")
        positions = {str(k): position(v, f"positions.{k}") for k, v in raw.items()}
        await self.service.pipelines.move_nodes(pipeline_id, positions)
        self.no_content()
