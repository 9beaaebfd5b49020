"""A pipeline's whole graph as the API sends it, built by PostgreSQL in one query.

Building thousands of node objects in Python and serialising them again took most of a large
graph's fetch; PostgreSQL's json functions do the same in a fraction of the time, and the text
they return goes to the client as it is. The shape matches ``Pipeline``, ``Node``, ``Edge`` and
``Group`` ``to_json`` in models.py: tests compare the two.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from .items import COUNTS_JSON
from .locks import HOLDERS_JOIN, LOCKED, LOCKED_BY, READ_ONLY_REASON, REFERENCED

_GRAPH = f"""
SELECT json_build_object(
  'id', p.id, 'project_id', p.project_id, 'tag', p.tag, 'notes', p.notes, 'owner', p.owner,
  'locked', p.locked, 'created_at', p.created_at, 'updated_at', p.updated_at,
  'nodes', COALESCE((
    SELECT json_agg(json_build_object(
      'id', n.id, 'project_id', n.project_id, 'tag', n.tag, 'notes', n.notes, 'kind', n.kind,
      'status', n.status, 'owner', n.owner,
      -- Derived, never stored on the node: see locks.py.
      'locked', {LOCKED}, 'locked_by', {LOCKED_BY},
      'folder', %(data_path)s || '/' || n.folder,
      'position', json_build_object('x', m.x, 'y', m.y),
      'group', m.group_id,
      'referenced', {REFERENCED}, 'read_only_reason', {READ_ONLY_REASON},
      -- Only running nodes look up their run: the CASE skips the subquery for the others.
      'started_at', CASE WHEN n.status = 'running' THEN
          (SELECT max(r.started_at) FROM run_nodes r
           WHERE r.node_id = n.id AND r.status = 'running') END,
      'stale_reasons', n.stale_reasons,
      -- A mapped node's items, counted (never listed): see items.py.
      'items', {COUNTS_JSON}
    ) ORDER BY n.created_at, n.id)
    FROM pipeline_nodes m JOIN nodes n ON n.id = m.node_id {HOLDERS_JOIN}
    WHERE m.pipeline_id = p.id), '[]'),
  'edges', COALESCE((
    SELECT json_agg(json_build_object(
      'id', e.id, 'source', e.parent_id, 'target', e.child_id, 'slot', e.slot
    ) ORDER BY e.child_id, e.slot)
    FROM edges e JOIN pipeline_nodes m ON m.node_id = e.child_id
    WHERE m.pipeline_id = p.id), '[]'),
  'groups', COALESCE((
    SELECT json_agg(json_build_object(
      'id', g.id, 'pipeline_id', g.pipeline_id, 'tag', g.tag, 'collapsed', g.collapsed,
      'position', json_build_object('x', g.x, 'y', g.y),
      'size', json_build_object('width', g.width, 'height', g.height)
    ) ORDER BY g.id)
    FROM node_groups g WHERE g.pipeline_id = p.id), '[]')
)::text
FROM pipelines p WHERE p.id = %(pipeline_id)s
"""


async def graph_json(conn: AsyncConnection, pipeline_id: str, data_path: str) -> str | None:
    """The graph's JSON text, or None when there is no such pipeline."""
    async with conn.cursor() as cur:
        await cur.execute(_GRAPH, {"pipeline_id": pipeline_id, "data_path": data_path})
        row = await cur.fetchone()
    return None if row is None else str(row[0])
