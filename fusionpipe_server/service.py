"""The business rules: the only layer that combines the store, node folders and runners."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Invalid, NotFound
from .models import Project, new_id
from .store import events
from .store import projects as project_store
from .store.database import Database

MAX_TAG_LENGTH = 200


@dataclass(frozen=True)
class Settings:
    """What the service needs to know about this server."""

    data_path: Path


def clean_tag(tag: str | None, field: str = "tag") -> str | None:
    """A tag as stored: surrounding spaces dropped; empty or overlong tags refused."""
    if tag is None:
        return None
    tag = tag.strip()
    if not tag:
        raise Invalid(f"{field} must not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise Invalid(f"{field} is longer than {MAX_TAG_LENGTH} characters")
    return tag


class Service:
    """Every operation the REST API, the CLI and the runners perform."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def list_projects(self) -> list[Project]:
        async with self.db.transaction() as conn:
            return await project_store.list_projects(conn)

    async def get_project(self, project_id: str) -> Project:
        async with self.db.transaction() as conn:
            project = await project_store.get_project(conn, project_id)
        if project is None:
            raise NotFound(f"no project with id {project_id!r}")
        return project

    async def create_project(self, owner: str, tag: str | None = None, notes: str = "") -> Project:
        project_id = new_id("project")
        async with self.db.transaction() as conn:
            project = await project_store.insert_project(
                conn, project_id, clean_tag(tag) or project_id, notes, owner
            )
            await events.announce(conn, "project.created", project_id=project.id)
        return project
