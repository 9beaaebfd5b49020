"""REST handlers for nodes: in a pipeline, on their own, their parameters, statuses and outputs."""

from __future__ import annotations

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


class PipelineNodesHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        where = body.get("position")
        node = await self.service.nodes.create(
            self.username,
            pipeline_id,
            tag=optional_str(body, "tag"),
            kind=optional_str(body, "kind"),
            position=position(where, "position") if where is not None else None,
        )
        self.created(node)


class PipelineNodeHandler(FusionpipeHandler):
    @web.authenticated
    async def patch(self, pipeline_id: str, node_id: str) -> None:
        body = self.json_object()
        where = body.get("position")
        node = await self.service.nodes.update(
            pipeline_id,
            node_id,
            tag=optional_str(body, "tag"),
            notes=optional_str(body, "notes"),
            position=position(where, "position") if where is not None else None,
            locked=optional_bool(body, "locked"),
        )
        self.reply(node)

    @web.authenticated
    async def delete(self, pipeline_id: str, node_id: str) -> None:
        await self.service.nodes.delete(pipeline_id, node_id)
        self.no_content()


class NodeHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, node_id: str) -> None:
        self.reply(await self.service.nodes.get(node_id))


class ParametersHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, node_id: str) -> None:
        self.reply({"content": await self.service.nodes.get_parameters(node_id)})

    @web.authenticated
    async def put(self, node_id: str) -> None:
        content = self.json_object().get("content")
        if not isinstance(content, str):
            raise Invalid("content must be the YAML text of node_parameters.yaml")
        self.reply(await self.service.nodes.set_parameters(node_id, content))


class StatusHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        await self.service.nodes.set_status(
            self.username, pipeline_id, string_list(body, "node_ids"), required_str(body, "status")
        )
        self.no_content()


class ClearOutputsHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        await self.service.nodes.clear_outputs(pipeline_id, string_list(body, "node_ids"))
        self.no_content()


class ProvenanceHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, node_id: str) -> None:
        self.reply(await self.service.provenance.of_node(node_id))
