"""Who may do what: the one rule, in one place.

Deleting, moving (to another project) and locking or unlocking a project or a pipeline, and
deleting a node, are for its owner and for admins. A node in a pipeline may also be deleted by
the pipeline's owner: deleting the whole pipeline would take it too. Everyone else reads, runs,
edits and adds nodes, as in the original's shared projects. Restoring or purging what is in the
trash is for who deleted it, the owner of what it holds, and admins.

PostgreSQL states the same rule for the users' roles (migration 0006, row-level security), so a
script with a user's database role cannot bypass it; the admins it knows are loaded here, so the
service and the database agree on who is one.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

import psycopg

from ..errors import Forbidden
from ..store import admins as admin_store
from ..store.database import Database

log = logging.getLogger(__name__)


class Rights:
    def __init__(self, admins: Iterable[str] = ()) -> None:
        self.admins = frozenset(admins)

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def may_manage(self, user: str, owner: str) -> bool:
        """Delete, move, lock or unlock what ``owner`` owns."""
        return user == owner or self.is_admin(user)

    def require(self, user: str, owner: str, action: str) -> None:
        """``Forbidden`` unless ``user`` may ``action`` (e.g. "delete pipeline 'p' (p_1)")."""
        if not self.may_manage(user, owner):
            raise Forbidden(f"only {owner} (the owner) or an admin may {action}")

    def may_delete_node(self, user: str, node_owner: str, pipeline_owner: str) -> bool:
        return self.may_manage(user, node_owner) or self.may_manage(user, pipeline_owner)

    def require_node(self, user: str, node_owner: str, pipeline_owner: str, action: str) -> None:
        """``Forbidden`` unless ``user`` may delete a node of ``node_owner`` from a pipeline of
        ``pipeline_owner`` (``action`` says which)."""
        if self.may_delete_node(user, node_owner, pipeline_owner):
            return
        if node_owner == pipeline_owner:
            raise Forbidden(f"only {node_owner} (the owner) or an admin may {action}")
        raise Forbidden(
            f"only {node_owner} (the node's owner), {pipeline_owner} (the pipeline's owner) "
            f"or an admin may {action}"
        )

    def may_restore(self, user: str, deleted_by: str, owner: str) -> bool:
        """Restore or purge a trash item."""
        return user == deleted_by or self.may_manage(user, owner)

    def require_restore(self, user: str, deleted_by: str, owner: str, action: str) -> None:
        if self.may_restore(user, deleted_by, owner):
            return
        who = (
            owner if owner == deleted_by else f"{owner} (the owner), {deleted_by} (who deleted it)"
        )
        raise Forbidden(f"only {who} or an admin may {action}")

    async def load(self, db: Database, wanted: Collection[str] | None = None) -> None:
        """Take the admins PostgreSQL knows. With ``wanted`` (the ``admins`` setting), make the
        database's list the same first, where this server's role may write it; where it may
        not (a user's role on a shared database), the database's list stays the one enforced,
        and a difference is logged with the command that changes it."""
        async with db.transaction() as conn:
            current = set(await admin_store.list_admins(conn))
            if wanted is not None and current != set(wanted):
                try:
                    async with conn.transaction():
                        await admin_store.replace_admins(conn, wanted)
                except psycopg.errors.InsufficientPrivilege:
                    pass
                current = set(await admin_store.list_admins(conn))
        self.admins = frozenset(current)
        if wanted is not None and current != set(wanted):
            log.warning(
                "fusionpipe: the admins setting (%s) differs from the database's admins (%s), "
                "which this server may not change: the database's are enforced. The database "
                "administrator sets them with `fusionpipe admin admins set NAME...`",
                ", ".join(sorted(wanted)) or "none",
                ", ".join(sorted(current)) or "none",
            )
