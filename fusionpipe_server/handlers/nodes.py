"""REST handlers for nodes: in a pipeline, on their own, their parameters, statuses and outputs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler, position, unique


class PipelineNodesHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        node = await self.service.nodes.create(
            self.username,
            pipeline_id,
            tag=body.get("tag"),
            kind=body.get("kind"),
            # No position: the service finds the node a free place.
            position=position(body.get("position")),
        )
        self.created(node)


class PipelineNodeHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def patch(self, pipeline_id: str, node_id: str) -> None:
        body = self.body()
        node = await self.service.nodes.update(
            self.username,
            pipeline_id,
            node_id,
            tag=body.get("tag"),
            notes=body.get("notes"),
            position=position(body.get("position")),
            locked=body.get("locked"),
        )
        self.reply(node)

    @web.authenticated
    @authorized("write")
    async def delete(self, pipeline_id: str, node_id: str) -> None:
        await self.service.nodes.delete(self.username, pipeline_id, node_id)
        self.no_content()


class NodeHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        self.reply(await self.service.nodes.get(node_id))


class ParametersHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        self.reply({"content": await self.service.nodes.get_parameters(node_id)})

    @web.authenticated
    @authorized("write")
    async def put(self, node_id: str) -> None:
        content = self.body()["content"]
        self.reply(await self.service.nodes.set_parameters(node_id, content))


class StatusHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        await self.service.nodes.set_status(
            self.username, pipeline_id, unique(body["node_ids"]), body["status"]
        )
        self.no_content()


class ClearOutputsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        await self.service.nodes.clear_outputs(pipeline_id, unique(self.body()["node_ids"]))
        self.no_content()


class ProvenanceHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        self.reply(await self.service.provenance.of_node(node_id))
