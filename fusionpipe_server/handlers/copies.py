"""REST handlers for duplicate, reference, detach, branch, duplicate pipeline and merge."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler, unique


class DuplicateNodesHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        id_map = await self.service.copies.duplicate_nodes(
            self.username,
            pipeline_id,
            unique(body["node_ids"]),
            body["target_pipeline_id"],
            with_data=bool(body.get("with_data")),
        )
        self.reply({"id_map": id_map}, status=201)


class ReferenceNodesHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        await self.service.copies.reference_nodes(
            pipeline_id, unique(body["node_ids"]), body["target_pipeline_id"]
        )
        self.no_content()


class DetachHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        id_map = await self.service.copies.detach(self.username, pipeline_id, body["node_id"])
        self.reply({"id_map": id_map}, status=201)


class BranchHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        branch = await self.service.copies.branch(self.username, pipeline_id, body["node_id"])
        self.reply(self.with_rights(branch), status=201)


class DuplicatePipelineHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        copy = await self.service.copies.duplicate_pipeline(
            self.username, pipeline_id, with_data=bool(body.get("with_data"))
        )
        self.reply(self.with_rights(copy), status=201)


class MergeHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        body = self.body()
        merged = await self.service.copies.merge(self.username, unique(body["pipeline_ids"]))
        self.reply(self.with_rights(merged), status=201)
