"""REST handlers for edges and node groups."""

from __future__ import annotations

from typing import Any

from tornado import web

from ..errors import Invalid
from .base import (
    FusionpipeHandler,
    optional_bool,
    optional_str,
    position,
    required_str,
    string_list,
)


def size(value: Any) -> tuple[float, float]:
    if not isinstance(value, dict):
        raise Invalid("size must be an object {width, height}")
    width, height = position({"x": value.get("width"), "y": value.get("height")}, "size")
    return width, height


class EdgesHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        edge = await self.service.edges.connect(
            pipeline_id, required_str(body, "source"), required_str(body, "target")
        )
        self.created(edge.to_json())


class EdgeHandler(FusionpipeHandler):
    @web.authenticated
    async def delete(self, pipeline_id: str, edge_id: str) -> None:
        await self.service.edges.disconnect(pipeline_id, edge_id)
        self.no_content()


class GroupsHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        group = await self.service.groups.create(
            pipeline_id,
            string_list(body, "node_ids"),
            tag=optional_str(body, "tag"),
            position=position(body["position"], "position") if "position" in body else None,
            size=size(body["size"]) if "size" in body else None,
        )
        self.created(group.to_json())


class GroupHandler(FusionpipeHandler):
    @web.authenticated
    async def patch(self, group_id: str) -> None:
        body = self.json_object()
        group = await self.service.groups.update(
            group_id,
            tag=optional_str(body, "tag"),
            collapsed=optional_bool(body, "collapsed"),
            position=position(body["position"], "position") if "position" in body else None,
            size=size(body["size"]) if "size" in body else None,
        )
        self.reply(group.to_json())

    @web.authenticated
    async def delete(self, group_id: str) -> None:
        await self.service.groups.delete(group_id)
        self.no_content()
