-- Mapped nodes: the items a node runs once each (SPEC §7), their counts, and what each run did
-- with each item.
--
-- Sized for 100,000 items in a node: the graph reads the counts (a few rows a node, kept by
-- triggers as items change), never the items; the items list pages by position through an
-- index; a run writes one item's row when that item starts and ends.

CREATE TABLE node_items (
    node_id       text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    item_id       text NOT NULL,          -- readable, stable, safe as a folder name
    position      integer NOT NULL,       -- order of the declaration, for listing
    item_values   jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'ready'
                  CHECK (status IN ('ready', 'running', 'completed', 'failed', 'staledata')),
    -- Of its last successful execution: what it was made from, and what it left.
    fingerprint   text,
    outputs       text,
    -- Its last execution.
    run_id        text,
    exit_code     integer,
    reason        text NOT NULL DEFAULT '',
    stale_reasons jsonb NOT NULL DEFAULT '[]',
    attempts      integer NOT NULL DEFAULT 0,
    started_at    timestamptz,
    finished_at   timestamptz,
    metrics       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (node_id, item_id)
);
CREATE INDEX node_items_position_idx ON node_items (node_id, position);
CREATE INDEX node_items_status_idx ON node_items (node_id, status, position);

-- How many items of a node are in each status: what the graph and the canvas show.
CREATE TABLE node_item_counts (
    node_id text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    status  text NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (node_id, status)
);

-- Statement-level triggers with transition tables: inserting 100,000 items costs one update
-- of the counts, not 100,000.
CREATE FUNCTION fusionpipe_items_counted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        -- Only rows that exist: when a node is deleted its counts may already be gone.
        UPDATE node_item_counts c SET n = c.n - d.n
          FROM (SELECT node_id, status, count(*) AS n FROM old_items GROUP BY 1, 2) d
         WHERE c.node_id = d.node_id AND c.status = d.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO node_item_counts AS c (node_id, status, n)
        SELECT node_id, status, count(*) FROM new_items GROUP BY 1, 2
        ON CONFLICT (node_id, status) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    DELETE FROM node_item_counts WHERE n <= 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER node_items_inserted AFTER INSERT ON node_items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION fusionpipe_items_counted();
CREATE TRIGGER node_items_updated AFTER UPDATE ON node_items
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION fusionpipe_items_counted();
CREATE TRIGGER node_items_deleted AFTER DELETE ON node_items
    REFERENCING OLD TABLE AS old_items
    FOR EACH STATEMENT EXECUTE FUNCTION fusionpipe_items_counted();

-- What each run did with each item it touched, for the history and the compare view.
CREATE TABLE run_items (
    run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id     text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    item_id     text NOT NULL,
    status      text NOT NULL
                CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped')),
    exit_code   integer,
    reason      text NOT NULL DEFAULT '',
    attempts    integer NOT NULL DEFAULT 0,
    started_at  timestamptz,
    finished_at timestamptz,
    metrics     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, node_id, item_id)
);
CREATE INDEX run_items_node_idx ON run_items (node_id, run_id);

-- What an unmapped node's code recorded with fusionpipe.metrics(), per run.
ALTER TABLE run_nodes ADD COLUMN metrics jsonb NOT NULL DEFAULT '{}';