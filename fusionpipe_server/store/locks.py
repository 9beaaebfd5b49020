"""The lock rule's one home: SQL that derives whether, and by what, a node is locked.

A node is locked when it is locked itself or when any pipeline that holds it is locked, as the
original's "blocked" pipeline froze its nodes. This is derived wherever a node is read and never
copied onto its row, so unlocking a pipeline frees its nodes unless they are locked themselves.
Every fragment expects the node's row under the alias ``n``.
"""

from __future__ import annotations

# The locked pipelines that hold node ``n``.
_LOCKING_PIPELINES = (
    "SELECT lp.id, lp.tag FROM pipeline_nodes lm JOIN pipelines lp ON lp.id = lm.pipeline_id "
    "WHERE lm.node_id = n.id AND lp.locked"
)

# Whether node ``n`` is locked: a boolean for WHERE clauses and claims.
LOCKED = f"(n.locked OR EXISTS ({_LOCKING_PIPELINES}))"

# What locks node ``n``, as JSON: NULL when nothing does, {"kind": "node"} when it is locked
# itself (that wins), else {"kind": "pipeline", "id", "tag"} of a locked pipeline holding it (the
# first by tag, so the answer is stable). ``locked`` is this being NOT NULL.
LOCKED_BY = (
    "(CASE WHEN n.locked THEN json_build_object('kind', 'node') ELSE ("
    "SELECT json_build_object('kind', 'pipeline', 'id', l.id, 'tag', l.tag) "
    f"FROM ({_LOCKING_PIPELINES}) l ORDER BY l.tag, l.id LIMIT 1) END)"
)

# A join that gives each row of ``n`` a ``lk.locked_by`` column, computed once per node.
LOCK_JOIN = f"CROSS JOIN LATERAL (SELECT {LOCKED_BY} AS locked_by) lk"
