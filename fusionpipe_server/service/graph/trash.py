"""The trash: what was deleted, listed, restored exactly (rows and folders) or purged for good,
and purged by itself once past its time (``trash_days``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from psycopg import AsyncConnection

from ...errors import Conflict, Forbidden, NotFound, Unavailable
from ...folders import trash_folders
from ...live.background import cancel
from ...models import TrashItem
from ...store import events
from ...store import nodes as node_store
from ...store import pipelines as pipeline_store
from ...store import trash as trash_store
from ..common import ServiceBase, Unit
from .edits import refresh_identities, sync_read_only
from .removal import purge_kept

log = logging.getLogger(__name__)

# How often a server purges what is past its time (and once when it starts).
PURGE_INTERVAL_SECONDS = 3600.0
# Items purged per transaction: a large backlog goes in several.
PURGE_BATCH = 50

_WHAT = {"projects": "project", "pipelines": "pipeline", "nodes": "node"}


class TrashService(ServiceBase):
    purge_interval = PURGE_INTERVAL_SECONDS
    _worker: asyncio.Task[None] | None = None

    async def listing(self, username: str) -> list[TrashItem]:
        """What ``username`` may restore: what they deleted or owned; everything for admins."""
        async with self.db.transaction() as conn:
            items = await trash_store.list_items(conn)
        return [i for i in items if self.rights.may_restore(username, i.deleted_by, i.owner)]

    async def restore(self, username: str, trash_id: str) -> TrashItem:
        """Put an item back: its rows as they were, its folders in their places. ``Conflict``
        (nothing changed) when that is not possible any more: a tag now taken, its pipeline or
        project itself in the trash, a place now occupied..."""
        async with self.unit() as unit:
            return await self.restore_in(unit, username, trash_id)

    async def restore_in(self, unit: Unit, username: str, trash_id: str) -> TrashItem:
        """``restore`` inside a transaction of the caller's (an undo of a node's deletion)."""
        item, rows, kept = await self._locked(unit.conn, username, trash_id, "restore")
        what = f"{item.kind} {item.tag!r} ({item.item_id})"
        await self._check_restorable(unit, item, rows)
        # Folders first: a place taken refuses the restore before any row is written.
        for entry in kept:
            trash_folders.take_back(self.settings.data_path, entry["folder"], entry["trashed"])
            unit.folders.undo.append(
                partial(
                    trash_folders.put_again,
                    self.settings.data_path,
                    entry["folder"],
                    entry["trashed"],
                )
            )
        await trash_store.put_back(unit.conn, rows)
        restored_edges = [edge["id"] for edge in rows.get("edges", [])]
        cycle = await trash_store.closes_cycle(unit.conn, restored_edges)
        if cycle:
            tags = await node_store.tags(unit.conn, list(cycle))
            raise Conflict(
                f"restoring {what} would close a cycle: {tags[cycle[1]]!r} reaches "
                f"{tags[cycle[0]]!r} again through edges made since; delete one of them first"
            )
        if not await trash_store.delete_item(unit.conn, trash_id):
            raise Forbidden(f"the database refused to restore {what}")
        await self._after_restore(unit, rows)
        return item

    async def purge(self, username: str, trash_id: str) -> TrashItem:
        """Delete an item for good, folders included."""
        async with self.unit() as unit:
            item, _, kept = await self._locked(unit.conn, username, trash_id, "purge")
            await self._forget(unit, item, kept)
        return item

    async def empty(self, username: str, older_than: timedelta | None = None) -> list[TrashItem]:
        """Purge everything ``username`` may (deleted more than ``older_than`` ago if given)."""
        before = None if older_than is None else datetime.now(timezone.utc) - older_than
        async with self.unit() as unit:
            items = await trash_store.list_items(unit.conn, older_than=before)
            mine = [i for i in items if self.rights.may_restore(username, i.deleted_by, i.owner)]
            for item in mine:
                # Skipped when purged meanwhile by someone else.
                if await trash_store.lock_item(unit.conn, item.id):
                    found = await trash_store.get_item(unit.conn, item.id)
                    if found is not None:
                        await self._forget(unit, item, found[2])
        return mine

    async def purge_expired(self) -> list[TrashItem]:
        """Purge every item past its time, whoever deleted it (PostgreSQL lets anyone purge an
        expired item). Several servers may do this at once: each takes different items."""
        purged: list[TrashItem] = []
        while True:
            async with self.unit() as unit:
                batch = await trash_store.expired(unit.conn, PURGE_BATCH)
                for trash_id in batch:
                    item, _, kept = await self._item(unit.conn, trash_id)
                    await self._forget(unit, item, kept)
                    purged.append(item)
            if len(batch) < PURGE_BATCH:
                return purged

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._purge_forever())

    async def stop(self) -> None:
        await cancel(self._worker)
        self._worker = None

    async def _purge_forever(self) -> None:
        while True:
            try:
                purged = await self.purge_expired()
                if purged:
                    log.info("fusionpipe: purged %d trash item(s) past their time", len(purged))
            except Unavailable:
                pass  # the database is away: the next round tries again
            except Exception:  # a purge must never end the loop
                log.exception("fusionpipe: purging the trash failed")
            await asyncio.sleep(self.purge_interval)

    @staticmethod
    async def _item(
        conn: AsyncConnection, trash_id: str
    ) -> tuple[TrashItem, dict[str, list[dict[str, Any]]], list[dict[str, str]]]:
        found = await trash_store.get_item(conn, trash_id)
        if found is None:
            raise NotFound(
                f"nothing in the trash with id {trash_id!r}: it was restored or purged, "
                f"or never there"
            )
        return found

    async def _locked(
        self, conn: AsyncConnection, username: str, trash_id: str, verb: str
    ) -> tuple[TrashItem, dict[str, list[dict[str, Any]]], list[dict[str, str]]]:
        """The item, locked for this transaction: one restore or purge of it at a time.

        The lock comes before the first read, so a request that loses a race to another
        restore or purge always reads the item gone: 404, the same answer as for an id that
        never was (trash rows never change, so what is read after the lock holds)."""
        locked = await trash_store.lock_item(conn, trash_id)
        item, rows, kept = await self._item(conn, trash_id)
        what = f"{verb} {item.kind} {item.tag!r} ({item.item_id})"
        self.rights.require_restore(username, item.deleted_by, item.owner, what)
        if not locked:
            # Visible but not lockable: row-level security refused this role.
            raise Forbidden(
                f"the database refused to let you {what}: only who deleted it, its owner or "
                f"an admin may, and the database's list of admins is the one that counts"
            )
        return item, rows, kept

    async def _forget(self, unit: Unit, item: TrashItem, kept: list[dict[str, str]]) -> None:
        if not await trash_store.delete_item(unit.conn, item.id):
            raise Forbidden(
                f"the database refused to purge {item.kind} {item.tag!r} ({item.item_id})"
            )
        unit.folders.finish.append(partial(purge_kept, self.settings.data_path, kept))
        await events.announce(unit.conn, "trash.changed")

    async def _gone(self, conn: AsyncConnection, table: str, row_id: str, name: str) -> Conflict:
        """Why ``name`` (row ``row_id`` of ``table``) cannot be found: in the trash, or gone."""
        holder = await trash_store.holding(conn, table, row_id)
        if holder is not None:
            return Conflict(
                f"{name} is itself in the trash (deleted with {holder.kind} {holder.tag!r} "
                f"by {holder.deleted_by}, item {holder.id}): restore that first"
            )
        return Conflict(f"{name} no longer exists")

    async def _check_restorable(
        self, unit: Unit, item: TrashItem, rows: dict[str, list[dict[str, Any]]]
    ) -> None:
        """Every refusal comes before anything is written: the transaction would undo it
        anyway, but a clear reason is owed."""
        conn = unit.conn
        mine = {table: {row["id"] for row in rows.get(table, [])} for table in _WHAT}
        for table, noun in _WHAT.items():
            taken = await trash_store.existing(conn, table, sorted(mine[table]))
            if taken:
                raise Conflict(f"{noun} {sorted(taken)[0]} exists already: it was restored before")
        for pipeline in rows.get("pipelines", []):
            if pipeline["project_id"] not in mine["projects"]:
                found = await trash_store.existing(conn, "projects", [pipeline["project_id"]])
                if not found:
                    raise await self._gone(
                        conn,
                        "projects",
                        pipeline["project_id"],
                        f"its project {pipeline['project_id']}",
                    )
            if await pipeline_store.tag_taken(conn, pipeline["tag"]):
                raise Conflict(
                    f"another pipeline is now tagged {pipeline['tag']!r} "
                    f"(pipeline tags are unique): rename that one first"
                )
        outside = {
            "pipelines": {m["pipeline_id"] for m in rows.get("pipeline_nodes", [])}
            - mine["pipelines"],
            "nodes": (
                {m["node_id"] for m in rows.get("pipeline_nodes", [])}
                | {e["parent_id"] for e in rows.get("edges", [])}
                | {e["child_id"] for e in rows.get("edges", [])}
            )
            - mine["nodes"],
        }
        for table, ids in outside.items():
            there = await trash_store.existing(conn, table, sorted(ids))
            for missing in sorted(ids - there):
                if table == "pipelines" and item.kind == "node":
                    name = f"its pipeline {missing}"
                else:
                    name = f"{_WHAT[table]} {missing}, which it was part of or connected to,"
                raise await self._gone(conn, table, missing, name)
        for pipeline_id in sorted(outside["pipelines"]):
            # Adding to a locked pipeline is refused, as a new node would be.
            await self.pipeline(conn, pipeline_id, editable=True)
        # A group removed meanwhile: the node comes back outside any group.
        groups = {m["group_id"] for m in rows.get("pipeline_nodes", []) if m["group_id"]}
        known = await trash_store.existing(conn, "node_groups", sorted(groups)) | {
            g["id"] for g in rows.get("node_groups", [])
        }
        for membership in rows.get("pipeline_nodes", []):
            if membership["group_id"] not in known:
                membership["group_id"] = None

    async def _after_restore(self, unit: Unit, rows: dict[str, list[dict[str, Any]]]) -> None:
        conn = unit.conn
        restored = [node["id"] for node in rows.get("nodes", [])]
        members = sorted({m["node_id"] for m in rows.get("pipeline_nodes", [])})
        children = sorted({e["child_id"] for e in rows.get("edges", [])} - set(restored))
        # Identity files and kernel specs, and the read-only state of what is locked or shared.
        await refresh_identities(unit, self.settings.data_path, [*restored, *children])
        await sync_read_only(unit, self.settings.data_path, members)
        unit.touched.update(restored, children)
        for project in rows.get("projects", []):
            await events.announce(conn, "project.created", project_id=project["id"])
        for pipeline in rows.get("pipelines", []):
            await events.announce(
                conn,
                "pipeline.created",
                pipeline_id=pipeline["id"],
                project_id=pipeline["project_id"],
            )
        for pipeline_id in sorted({m["pipeline_id"] for m in rows.get("pipeline_nodes", [])}):
            await events.announce(conn, "pipeline.changed", pipeline_id=pipeline_id)
        await events.announce(conn, "trash.changed")
