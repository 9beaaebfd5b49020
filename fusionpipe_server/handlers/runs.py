"""REST handlers for runs, kills, run history and logs. Starting, killing and cancelling runs is
the "execute" action: it runs (or stops) code."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FusionpipeHandler, unique

HISTORY_LENGTH = 50


class PipelineRunsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self, pipeline_id: str) -> None:
        body = self.body()
        node_ids = body.get("node_ids")
        run = await self.service.runs.start(
            self.username,
            pipeline_id,
            node_ids=unique(node_ids) if node_ids is not None else None,
            until=body.get("until"),
            items=body.get("items"),
        )
        self.reply(run.to_json(), status=202)

    @web.authenticated
    @authorized("read")
    async def get(self, pipeline_id: str) -> None:
        page = await self.service.history.page(
            pipeline_id,
            limit=self.query("limit", HISTORY_LENGTH),
            offset=self.query("offset", 0),
            status=self.query("status"),
        )
        self.reply(page)


class RunHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, run_id: str) -> None:
        self.reply(await self.service.history.run(run_id))


class CancelRunHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self, run_id: str) -> None:
        self.reply((await self.service.runs.cancel(self.username, run_id)).to_json())


class KillHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self, pipeline_id: str, node_id: str) -> None:
        self.reply(await self.service.runs.kill(self.username, pipeline_id, node_id), status=202)


class NodeRunsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        runs = await self.service.runs.history(
            node_id=node_id, limit=self.query("limit", HISTORY_LENGTH)
        )
        self.reply({"runs": [run.to_json() for run in runs]})


class LogHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        run_id, tail, item = self.query("run_id"), self.query("tail"), self.query("item")
        if item is not None:
            self.reply(await self.service.items.log_text(node_id, item, run_id, tail))
            return
        self.reply(await self.service.runs.log_text(node_id, run_id, tail))


class ItemsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        self.reply(
            await self.service.items.page(
                node_id,
                status=self.query("status"),
                text=self.query("q", ""),
                offset=self.query("offset", 0),
                limit=self.query("limit", 100),
            )
        )


class MetricsHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, node_id: str) -> None:
        self.reply(await self.service.items.metrics(node_id, self.query("by", "items")))
