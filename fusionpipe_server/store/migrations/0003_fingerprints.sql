-- Staleness from content: what each node's last successful run was made from, why a node is
-- stale, the stat cache of its files, provenance per run, and the cache of replaced outputs.

ALTER TABLE nodes
    -- The fingerprint its last successful run started with (or that "set completed" accepted),
    -- and the parts it was made of, to explain a difference. NULL: none recorded yet (nodes
    -- from before this migration adopt the first one computed).
    ADD COLUMN fingerprint       text,
    ADD COLUMN fingerprint_parts jsonb,
    -- Digest of data/ when that run ended, and as last seen: they differ when someone edited
    -- the outputs by hand. Children's inputs are the digest last seen.
    ADD COLUMN outputs_recorded  text,
    ADD COLUMN outputs_seen      text,
    -- Why the node is stale: [{kind, message}], written by one server at a time.
    ADD COLUMN stale_reasons     jsonb NOT NULL DEFAULT '[]',
    -- Who set it stale by hand: it then always re-runs, until a run or an accept clears it.
    ADD COLUMN stale_manual      text,
    ADD COLUMN made_by_run       text,
    ADD COLUMN restored_from     text;
-- Saves in the lab's editor and file watching know a folder, not a node.
CREATE INDEX nodes_folder_idx ON nodes (folder);
-- A copy (duplicate, branch) can take the outputs of a node with the same fingerprint.
CREATE INDEX nodes_fingerprint_idx ON nodes (fingerprint) WHERE fingerprint IS NOT NULL;

-- The stat cache: a file whose stat is unchanged keeps its hash and is not read again.
CREATE TABLE node_files (
    node_id      text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    path         text NOT NULL,  -- relative to the node folder: code/... or data/...
    ino          bigint NOT NULL,
    size         bigint NOT NULL,
    mtime_ns     bigint NOT NULL,
    ctime_ns     bigint NOT NULL,
    hashed_at_ns bigint NOT NULL,
    hash         text NOT NULL,
    PRIMARY KEY (node_id, path)
);

-- Provenance: what each execution was made from.
ALTER TABLE run_nodes
    ADD COLUMN fingerprint       text,
    ADD COLUMN fingerprint_parts jsonb,
    -- slot -> {node_id, tag, run_id}: the parent runs whose outputs it read.
    ADD COLUMN inputs_from       jsonb,
    ADD COLUMN outputs_digest    text,
    ADD COLUMN restored_from     text;
CREATE INDEX run_nodes_fingerprint_idx ON run_nodes (fingerprint) WHERE status = 'completed';

-- Outputs a re-run replaced, moved aside (renamed, never copied) under the data folder's
-- .fusionpipe-cache/, restored when a node's fingerprint matches again.
CREATE TABLE output_cache (
    folder      text PRIMARY KEY,  -- relative to the data folder
    fingerprint text NOT NULL,
    node_id     text NOT NULL,     -- no foreign key: the cache outlives a deleted node
    run_id      text NOT NULL,
    outputs     text NOT NULL,     -- digest of what it holds
    size        bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX output_cache_fingerprint_idx ON output_cache (fingerprint);
CREATE INDEX output_cache_created_idx ON output_cache (created_at);
