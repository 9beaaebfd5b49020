"""REST handlers for runs, kills, run history and logs."""

from __future__ import annotations

from tornado import web

from .base import FusionpipeHandler, optional_str, string_list, whole_number


def _limit(handler: FusionpipeHandler, name: str, default: int | None) -> int | None:
    return whole_number(handler, name, default, minimum=1)


class PipelineRunsHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str) -> None:
        body = self.json_object()
        run = await self.service.runs.start(
            self.username,
            pipeline_id,
            node_ids=string_list(body, "node_ids") if "node_ids" in body else None,
            until=optional_str(body, "until"),
        )
        self.reply(run.to_json(), status=202)

    @web.authenticated
    async def get(self, pipeline_id: str) -> None:
        page = await self.service.history.page(
            pipeline_id,
            limit=_limit(self, "limit", 50) or 50,
            offset=whole_number(self, "offset", 0) or 0,
            status=self.get_argument("status", None),
        )
        self.reply(page)


class RunHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, run_id: str) -> None:
        self.reply(await self.service.history.run(run_id))


class CancelRunHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, run_id: str) -> None:
        self.reply((await self.service.runs.cancel(self.username, run_id)).to_json())


class KillHandler(FusionpipeHandler):
    @web.authenticated
    async def post(self, pipeline_id: str, node_id: str) -> None:
        await self.service.runs.kill(self.username, pipeline_id, node_id)
        self.reply({"node_id": node_id, "killed": True}, status=202)


class NodeRunsHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, node_id: str) -> None:
        runs = await self.service.runs.history(
            node_id=node_id, limit=_limit(self, "limit", 50) or 50
        )
        self.reply({"runs": [run.to_json() for run in runs]})


class LogHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, node_id: str) -> None:
        self.reply(
            await self.service.runs.log_text(
                node_id, self.get_argument("run_id", None), _limit(self, "tail", None)
            )
        )
