"""The lock rule's one home: SQL that derives whether, and by what, a node is locked.

A node is locked when it is locked itself or when any pipeline that holds it is locked, as the
original's "blocked" pipeline froze its nodes. This is derived wherever a node is read and never
copied onto its row, so unlocking a pipeline frees its nodes unless they are locked themselves.

Every fragment expects the node's row under the alias ``n`` and ``HOLDERS_JOIN`` after it: one
look at the pipelines holding each node gives both its lock and whether it is shared, so the
lock costs a large graph no extra lookup per node.
"""

from __future__ import annotations

# The pipelines holding node ``n``: ``holders.referenced`` (more than one holds it) and
# ``holders.pipeline_lock``, the first by tag of the locked ones as JSON {kind, id, tag}.
HOLDERS_JOIN = """CROSS JOIN LATERAL (
    SELECT count(*) > 1 AS referenced,
           (array_agg(json_build_object('kind', 'pipeline', 'id', lp.id, 'tag', lp.tag)
                      ORDER BY lp.tag, lp.id) FILTER (WHERE lp.locked))[1] AS pipeline_lock
    FROM pipeline_nodes lm JOIN pipelines lp ON lp.id = lm.pipeline_id
    WHERE lm.node_id = n.id) holders"""

# What locks node ``n``, as JSON: NULL when nothing does, {"kind": "node"} when it is locked
# itself (that wins), else {"kind": "pipeline", "id", "tag"} of a locked pipeline holding it.
LOCKED_BY = (
    "(CASE WHEN n.locked THEN json_build_object('kind', 'node') ELSE holders.pipeline_lock END)"
)

# Whether node ``n`` is locked.
LOCKED = "(n.locked OR holders.pipeline_lock IS NOT NULL)"

# Whether another pipeline holds node ``n`` too (shared by reference).
REFERENCED = "holders.referenced"
