"""REST handlers for duplicate, reference, detach, branch, duplicate pipeline and merge."""

from __future__ import annotations

from tornado import web

from .base import FusionpipeHandler, optional_bool, required_str, string_list


class DuplicateNodesHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        id_map = await self.service.copies.duplicate_nodes(
            self.username,
            pipeline_id,
            string_list(body, "node_ids"),
            required_str(body, "target_pipeline_id"),
            with_data=bool(optional_bool(body, "with_data")),
        )
        self.reply({"id_map": id_map}, status=201)


class ReferenceNodesHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        await self.service.copies.reference_nodes(
            pipeline_id, string_list(body, "node_ids"), required_str(body, "target_pipeline_id")
        )
        self.no_content()


class DetachHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        id_map = await self.service.copies.detach(
            self.username, pipeline_id, required_str(body, "node_id")
        )
        self.reply({"id_map": id_map}, status=201)


class BranchHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        branch = await self.service.copies.branch(
            self.username, pipeline_id, required_str(body, "node_id")
        )
        self.reply(branch.to_json(), status=201)


class DuplicatePipelineHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        copy = await self.service.copies.duplicate_pipeline(
            self.username, pipeline_id, with_data=bool(optional_bool(body, "with_data"))
        )
        self.reply(copy.to_json(), status=201)


class MergeHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        merged = await self.service.copies.merge(self.username, string_list(body, "pipeline_ids"))
        self.reply(merged.to_json(), status=201)
