-- Retries: a node may run several times in one run. run_nodes holds the latest attempt and
-- how many are allowed; each attempt, with how it ended, is a row of run_node_attempts.

ALTER TABLE run_nodes
    ADD COLUMN attempt  integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    ADD COLUMN attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 1);

CREATE TABLE run_node_attempts (
    run_id      text NOT NULL,
    node_id     text NOT NULL,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    backend     text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    exit_code   integer,
    -- Empty while it runs; how it ended once it has: "completed", "exit code 1",
    -- "timed out after 15m"...
    reason      text NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, node_id, attempt),
    FOREIGN KEY (run_id, node_id) REFERENCES run_nodes (run_id, node_id) ON DELETE CASCADE
);
