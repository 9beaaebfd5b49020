"""Base handler: authentication, JSON bodies and the one map from domain errors to HTTP replies."""

from __future__ import annotations

import getpass
import json
import math
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join

from ..errors import FusionpipeError, Invalid
from ..service import Service


class FusionpipeHandler(ExtensionHandlerMixin, APIHandler):
    """Every fusionpipe REST handler; verbs must still carry ``@web.authenticated``."""

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

    def json_object(self) -> dict[str, Any]:
        """The request body as a JSON object; anything else is a 400 saying what is wrong."""
        raw = self.request.body
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise Invalid(f"the request body is not valid JSON: {err}") from err
        if not isinstance(body, dict):
            raise Invalid("the request body must be a JSON object")
        return body

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

    def flag(self, name: str) -> bool:
        """A boolean query argument: true/1/yes or false/0/no (absent is false)."""
        value = self.get_argument(name, "false").lower()
        if value not in _BOOLEANS:
            raise Invalid(f"{name} must be true or false")
        return _BOOLEANS[value]

    # A FusionpipeError is a user mistake or a refused operation: answer with its own status and
    # message instead of tornado's generic 500, and keep it out of the error log.
    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        error = _domain_error(kwargs.get("exc_info"))
        super().send_error(error.status_code if error else status_code, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = _domain_error(kwargs.get("exc_info"))
        if error is None:
            super().write_error(status_code, **kwargs)
            return
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": error.message}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, FusionpipeError) and value.status_code < 500:
            self.log.debug("fusionpipe: %s refused: %s", self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


def _domain_error(exc_info: Any) -> FusionpipeError | None:
    if exc_info and isinstance(exc_info[1], FusionpipeError):
        return exc_info[1]
    return None


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def whole_number(
    handler: FusionpipeHandler, name: str, default: int | None, *, minimum: int = 0
) -> int | None:
    """A query argument that must be a whole number of at least ``minimum``."""
    raw = handler.get_argument(name, None)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise Invalid(f"{name} must be a whole number of at least {minimum}")
    return int(raw)


def optional_str(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{field} must be a string")
    return value


def required_str(body: dict[str, Any], field: str) -> str:
    value = optional_str(body, field)
    if value is None:
        raise Invalid(f"{field} is required")
    return value


def optional_bool(body: dict[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise Invalid(f"{field} must be true or false")
    return value


def string_list(body: dict[str, Any], field: str, *, required: bool = True) -> list[str]:
    value = body.get(field)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{field} must be a list of ids")
    if not value and required:
        raise Invalid(f"{field} must not be empty")
    return list(dict.fromkeys(value))


def position(value: Any, field: str) -> tuple[float, float]:
    """An {x, y} object of finite numbers."""
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be an object {{x, y}}")
    coordinates = []
    for axis in ("x", "y"):
        number = value.get(axis)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise Invalid(f"{field}.{axis} must be a number")
        if not math.isfinite(number):
            raise Invalid(f"{field}.{axis} must be finite")
        coordinates.append(float(number))
    return coordinates[0], coordinates[1]
