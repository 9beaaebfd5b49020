"""The API's own document and the JSON answer for every address under the API that is no route."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import NotFound
from . import openapi
from .base import NO_CREDENTIALS, FusionpipeHandler


class OpenAPIHandler(FusionpipeHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        api_url = url_path_join(self.base_url, "fusionpipe", "api")
        self.reply(openapi.document(api_url))


class UnknownPathHandler(FusionpipeHandler):
    """Matches last: an id of another shape or a misspelt path gets a JSON 404, not Jupyter's
    HTML page."""

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        await super().prepare()
        if self.current_user is None:
            raise web.HTTPError(401, NO_CREDENTIALS)
        raise NotFound(f"no such fusionpipe API address: {self.request.path}")
