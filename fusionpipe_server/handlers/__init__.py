"""The REST handler table, mounted under ``<base_url>fusionpipe/api/``."""

from __future__ import annotations

from typing import Any

from .projects import ProjectHandler, ProjectsHandler

API = "/fusionpipe/api"
_ID = r"(?P<{}>[A-Za-z0-9_\-]+)"


def handlers() -> list[tuple[str, Any]]:
    return [
        (rf"{API}/projects", ProjectsHandler),
        (rf"{API}/projects/{_ID.format('project_id')}", ProjectHandler),
    ]
