"""Several users on one test server: token authentication as usual, and the header
``X-Test-User`` says who is asking (without it: the account running the tests)."""

from __future__ import annotations

import getpass
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User

HEADER = "X-Test-User"


class SeveralUsers(IdentityProvider):
    async def _get_user(self, handler: Any) -> User | None:
        user = await super()._get_user(handler)
        if user is None:
            return None
        return User(username=handler.request.headers.get(HEADER) or getpass.getuser())


def as_user(api: Any, name: str) -> Any:
    """``api`` (see conftest.py), asking as ``name``."""

    async def call(method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = {**kwargs.pop("headers", {}), HEADER: name}
        return await api(method, path, body, headers=headers, **kwargs)

    return call


class SeveralUsersWithoutLogin(SeveralUsers):
    """The same for the browser tests' server, whose galata settings turn authentication off
    (no token, no password): every request is let in, as the account running the tests unless
    the header names another user."""

    @property
    def auth_enabled(self) -> bool:
        return bool(self.token)
