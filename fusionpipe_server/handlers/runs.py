"""REST handlers for runs, kills, run history and logs."""

from __future__ import annotations

from tornado import web

from ..errors import Invalid
from .base import FusionpipeHandler, optional_str, string_list


def _limit(handler: FusionpipeHandler, name: str, default: int | None) -> int | None:
    raw = handler.get_argument(name, None)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid(f"{name} must be a positive whole number")
    return int(raw)


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
        runs = await self.service.runs.history(
            pipeline_id=pipeline_id, limit=_limit(self, "limit", 50) or 50
        )
        self.reply({"runs": [run.to_json() for run in runs]})


class RunHandler(FusionpipeHandler):
    @web.authenticated
    async def get(self, run_id: str) -> None:
        self.reply((await self.service.runs.get(run_id)).to_json())


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
