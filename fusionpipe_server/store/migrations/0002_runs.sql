-- Runs: one execution request, and what happened to each node in it.

CREATE TABLE runs (
    id           text PRIMARY KEY,
    pipeline_id  text NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    requested_by text NOT NULL,
    scope        text NOT NULL CHECK (scope IN ('pipeline', 'until', 'nodes')),
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    -- host:pid of the Jupyter server scheduling it, so a restart can close what it left open.
    executor     text NOT NULL DEFAULT ''
);
CREATE INDEX runs_pipeline_idx ON runs (pipeline_id, created_at);

CREATE TABLE run_nodes (
    run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id     text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped',
                                  'cancelled')),
    backend     text,
    -- Where the process runs, so a restarted server can tell a live node from a dead one.
    host        text,
    pid         integer,
    started_at  timestamptz,
    finished_at timestamptz,
    exit_code   integer,
    reason      text NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, node_id)
);
CREATE INDEX run_nodes_node_idx ON run_nodes (node_id, started_at);
