"""Base handler: authentication, authorization, checked input and the one map from domain errors to
HTTP replies."""

from __future__ import annotations

import getpass
import json
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import FusionpipeError, Invalid, Unavailable
from ..models import Pipeline, Project
from ..service import Service
from . import openapi, validation

# The resource an Authorizer is asked about, with the actions "read", "write" and "execute"
# (starting, killing and cancelling runs execute code).
AUTH_RESOURCE = "fusionpipe"
NO_CREDENTIALS = "log in first, or send the header Authorization: token <token>"
# Retry-After of a 503 that is no Unavailable of ours (tornado's own, say).
RETRY_AFTER_SECONDS = 2


class FusionpipeHandler(ExtensionHandlerMixin, APIHandler):
    """Every fusionpipe REST handler; verbs carry ``@web.authenticated`` and ``@authorized``.

    ``api_path`` is the operation's path in the OpenAPI document, given by the handler table:
    bodies and query arguments are checked against what the document declares there."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str, api_path: str = "", **kwargs: Any) -> None:
        self.api_path = api_path
        super().initialize(name, **kwargs)

    @property
    def service(self) -> Service:
        return self.settings["fusionpipe_service"]

    @property
    def username(self) -> str:
        """Who is asking: the JupyterHub user, or the account running a single-user server.

        A token- or password-protected single-user server only knows anonymous random names
        for its user, so the owner recorded there is the operating-system account.
        """
        provider = self.identity_provider
        if isinstance(provider, PasswordIdentityProvider) or type(provider) is IdentityProvider:
            return getpass.getuser()
        return str(self.current_user.username)

    # A call without credentials is a 401 (jupyter_server says 403, as for a refused one): a
    # client can tell "log in" from "not allowed", as the OpenAPI document promises.
    def check_xsrf_cookie(self) -> None:
        if hasattr(self, "_jupyter_current_user") and self.current_user is None:
            raise web.HTTPError(401, NO_CREDENTIALS)
        super().check_xsrf_cookie()

    def get_login_url(self) -> str:
        if not self.current_user:
            raise web.HTTPError(401, NO_CREDENTIALS)
        return super().get_login_url()

    def _operation(self) -> dict[str, Any]:
        operation = openapi.operation(self.api_path, self.request.method or "")
        assert operation is not None, f"{self.request.method} {self.api_path} is not documented"
        return operation

    def body(self) -> dict[str, Any]:
        """The request body, checked against the operation's schema (absent: ``{}`` when the
        schema requires nothing)."""
        declared = self._operation().get("requestBody")
        schema = declared["content"]["application/json"]["schema"] if declared else {}
        raw = self.request.body
        value = validation.parse_json_body(raw) if raw else {}
        if not isinstance(value, dict):
            raise Invalid("the request body must be a JSON object")
        validation.check_object(value, schema, "")
        return value

    def query(self, name: str, default: Any = None) -> Any:
        """A query argument, converted and checked against its declared schema."""
        # Not stripped: tornado turns control characters into spaces, and a stripped "E\x06"
        # would pass for "E", a value the document refuses.
        raw = self.get_argument(name, None, strip=False)
        if raw is None:
            return default
        for parameter in self._operation().get("parameters", ()):
            if parameter["name"] == name:
                return validation.query_value(raw, parameter["schema"], name)
        raise AssertionError(f"query argument {name} is not documented for {self.api_path}")

    def with_rights(self, item: Project | Pipeline | dict[str, Any]) -> dict[str, Any]:
        """A project or pipeline as JSON, with ``may_manage``: whether this user may delete,
        move, lock or unlock it (the panel greys out what the server would refuse)."""
        values = item if isinstance(item, dict) else item.to_json()
        return {
            **values,
            "may_manage": self.service.rights.may_manage(self.username, values["owner"]),
        }

    def reply(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(value))

    def reply_json_text(self, text: str) -> None:
        """200 with JSON the database already serialised: sent as it is."""
        self.set_header("Content-Type", "application/json")
        self.finish(text)

    def created(self, value: dict[str, Any]) -> None:
        """201 with the new object and its address."""
        self.set_header("Location", url_path_join(self.request.path, value["id"]))
        self.reply(value, status=201)

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    # A FusionpipeError is a user mistake or a refused operation: answer with its own status and
    # message instead of tornado's generic 500, and keep it out of the error log.
    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        error = _domain_error(kwargs.get("exc_info"))
        super().send_error(error.status_code if error else status_code, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        write_json_error(self, status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, FusionpipeError) and value.status_code < 500:
            self.log.debug("fusionpipe: %s refused: %s", self.request.uri, value)
            return
        if isinstance(value, Unavailable):
            # A busy or lost database is expected and said once by store/database.py: one line
            # a request, with no traceback (a hundred of them under load would drown the log).
            self.log.warning("fusionpipe: %s answered 503: %s", self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


def write_json_error(handler: web.RequestHandler, status_code: int, **kwargs: Any) -> None:
    """Every fusionpipe error answer: ``{"message": ...}``, plus ``Allow`` on a 405 and
    ``Retry-After`` on a 503 (a busy or unreachable database is a moment's matter)."""
    error = _domain_error(kwargs.get("exc_info"))
    if error is not None:
        message = error.message
    else:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        reason = getattr(exc, "log_message", None) if isinstance(exc, web.HTTPError) else None
        message = reason or handler._reason
    if status_code == 401:
        handler.set_header("WWW-Authenticate", "token")
    if status_code == 503:
        retry = error.retry_after if isinstance(error, Unavailable) else RETRY_AFTER_SECONDS
        handler.set_header("Retry-After", str(retry))
    if status_code == 405:
        allowed = openapi.methods(getattr(handler, "api_path", ""))
        handler.set_header("Allow", ", ".join(allowed))
        message = f"{handler.request.method} is not allowed here; use {', '.join(allowed)}"
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"message": message}))


def _domain_error(exc_info: Any) -> FusionpipeError | None:
    if exc_info and isinstance(exc_info[1], FusionpipeError):
        return exc_info[1]
    return None


def xy(value: dict[str, float]) -> tuple[float, float]:
    """A checked ``{x, y}`` as a pair."""
    return float(value["x"]), float(value["y"])


def position(value: dict[str, float] | None) -> tuple[float, float] | None:
    """A checked ``{x, y}`` as a pair (``None`` stays ``None``)."""
    return None if value is None else xy(value)


def size(value: dict[str, float] | None) -> tuple[float, float] | None:
    """A checked ``{width, height}`` as a pair (``None`` stays ``None``)."""
    return None if value is None else (float(value["width"]), float(value["height"]))


def unique(ids: list[str]) -> list[str]:
    """Checked ids with repeats dropped, in their order."""
    return list(dict.fromkeys(ids))
