"""Projects: create, list, rename, notes, delete, and the lineage graph of their pipelines."""

from __future__ import annotations

from typing import Any

from ...errors import Conflict, NotFound
from ...models import Project, TrashItem, new_id
from ...store import events
from ...store import pipelines as pipeline_store
from ...store import projects as project_store
from ..common import ServiceBase, clean_tag
from .removal import trash_pipelines


class ProjectService(ServiceBase):
    async def list(self) -> list[Project]:
        async with self.db.transaction() as conn:
            return await project_store.list_projects(conn)

    async def get(self, project_id: str) -> Project:
        async with self.db.transaction() as conn:
            return await self._project(conn, project_id)

    @staticmethod
    async def _project(conn: Any, project_id: str, *, for_update: bool = False) -> Project:
        project = await project_store.get_project(conn, project_id, for_update=for_update)
        if project is None:
            raise NotFound(f"no project with id {project_id!r}")
        return project

    async def create(self, owner: str, tag: str | None = None, notes: str = "") -> Project:
        project_id = new_id("project")
        async with self.db.transaction() as conn:
            project = await project_store.insert_project(
                conn, project_id, clean_tag(tag) or project_id, notes, owner
            )
            await events.announce(conn, "project.created", project_id=project.id)
        return project

    async def update(
        self, project_id: str, *, tag: str | None = None, notes: str | None = None
    ) -> Project:
        async with self.db.transaction() as conn:
            await self._project(conn, project_id, for_update=True)
            project = await project_store.update_project(
                conn, project_id, tag=clean_tag(tag), notes=notes
            )
            await events.announce(conn, "project.updated", project_id=project_id)
        return project

    async def delete(
        self, username: str, project_id: str, *, cascade: bool = False, keep: bool = True
    ) -> TrashItem:
        """Delete a project into the trash; its pipelines go with it only when ``cascade`` is
        asked for, and only if ``username`` may delete each of them too. ``keep`` False: for
        good, not into the trash."""
        async with self.unit() as unit:
            project = await self._project(unit.conn, project_id, for_update=True)
            what = f"project {project.tag!r} ({project.id})"
            self.rights.require(username, project.owner, f"delete {what}")
            pipelines = await pipeline_store.list_pipelines(unit.conn, project_id)
            if pipelines and not cascade:
                raise Conflict(
                    f"project {project_id} still holds {len(pipelines)} pipeline(s): delete "
                    f"them first, or ask for cascade=true"
                )
            for pipeline in pipelines:
                self.rights.require(
                    username,
                    pipeline.owner,
                    f"delete pipeline {pipeline.tag!r} ({pipeline.id}), which {what} holds",
                )
            return await trash_pipelines(
                unit, self.settings, username, pipelines, project, keep=keep
            )

    async def graph(self, project_id: str) -> dict[str, Any]:
        """The project's pipelines as nodes, their lineage (branch, duplicate, merge) as edges."""
        async with self.db.transaction() as conn:
            project = await self._project(conn, project_id)
            pipelines = await pipeline_store.list_pipelines(conn, project_id)
            lineage = await pipeline_store.project_lineage(conn, project_id)
        return {
            "project": project.to_json(),
            "pipelines": [p.to_json() for p in pipelines],
            "edges": lineage,
        }
