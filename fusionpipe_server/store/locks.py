"""The lock rule's one home: SQL that derives whether, and by what, a node is locked.

A node is locked when it is locked itself or when any pipeline that holds it is locked, as the
original's "blocked" pipeline froze its nodes. This is derived wherever a node is read and never
copied onto its row, so unlocking a pipeline frees its nodes unless they are locked themselves.

``READ_ONLY_REASON`` words the same rule for the panel, so that the panel never re-derives it.

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

# Why node ``n`` is read-only, as the sentence the panel shows, or NULL when it is not: it is
# locked itself (that wins), a locked pipeline holds it, or it is shared by reference. The same
# three cases make its folder read-only on disk and make the services refuse to change it.
READ_ONLY_REASON = """(CASE
    WHEN n.locked THEN 'the node is locked: unlock it to change it'
    WHEN holders.pipeline_lock IS NOT NULL THEN
        'pipeline "' || (holders.pipeline_lock ->> 'tag')
        || '" is locked, which freezes its nodes: unlock that pipeline to change it'
    WHEN holders.referenced THEN
        'the node is shared with other pipelines (referenced): detach it to change it'
END)"""
