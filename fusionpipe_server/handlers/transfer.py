"""REST handlers for a pipeline's export (a zip download) and import (a zip upload)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..core.pipeline_build import base_name
from .base import FusionpipeHandler


class ExportHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, pipeline_id: str) -> None:
        tag, data = await self.service.transfer.export_zip(pipeline_id)
        # The folder-name rule gives a plain ASCII file name, whatever the tag.
        name = f"{base_name(tag, 'pipeline')}.zip"
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(data, set_content_type="application/zip")


class ImportHandler(FusionpipeHandler):
    """The request body is the zip itself (as the export gives it); ``?tag=`` names the new
    pipeline instead of the export's tag."""

    @web.authenticated
    @authorized("write")
    async def post(self, project_id: str) -> None:
        pipeline = await self.service.transfer.import_zip(
            self.username, project_id, self.request.body, self.query("tag")
        )
        self.set_header(
            "Location", url_path_join(self.base_url, "fusionpipe/api/pipelines", pipeline.id)
        )
        self.reply(self.with_rights(pipeline), status=201)
