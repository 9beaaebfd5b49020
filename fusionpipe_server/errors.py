"""One exception tree for every user-visible failure; handlers map it to HTTP codes."""

from __future__ import annotations


class FusionpipeError(Exception):
    """Base of every error fusionpipe raises on purpose; ``message`` is shown to the user."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(FusionpipeError):
    """Bad input: the message names the field or value at fault."""

    status_code = 400


class Forbidden(FusionpipeError):
    """Allowed to others, not to this user: the message names who may (the owner, an admin)."""

    status_code = 403


class NotFound(FusionpipeError):
    """An id that does not exist."""

    status_code = 404


class Conflict(FusionpipeError):
    """Well formed, but the current state refuses it (cycle, locked, referenced...)."""

    status_code = 409


class Unavailable(FusionpipeError):
    """A backing service (database, Ray, MATLAB...) cannot be reached or used right now.

    ``retry_after``: the seconds the client is told to wait before asking again (the answer's
    ``Retry-After``)."""

    status_code = 503

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after
