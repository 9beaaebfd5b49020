-- The undo log: each user's graph edits of each pipeline, with what each touched before and
-- after, so that the server can undo and redo them and refuse when a later change of the same
-- object would be reverted.
--
-- One row per edit. ``undone`` tells the two stacks apart (false: undo stack, true: redo
-- stack); ``seq`` orders them and is taken again each time an edit is done, undone or redone,
-- so the newest ``seq`` touching an object names who changed it last (``keys``).

CREATE SEQUENCE undo_order;

CREATE TABLE undo_entries (
    id          bigserial PRIMARY KEY,
    pipeline_id text NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    username    text NOT NULL,
    label       text NOT NULL,        -- "rename of node 'fit'"
    changes     jsonb NOT NULL,       -- [{key, name, before, after, trash?}]
    keys        text[] NOT NULL,      -- the keys of ``changes``: "node:ID", "edge:ID"...
    undone      boolean NOT NULL DEFAULT false,
    seq         bigint NOT NULL DEFAULT nextval('undo_order'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX undo_entries_stack_idx ON undo_entries (pipeline_id, username, undone, seq);
CREATE INDEX undo_entries_keys_idx ON undo_entries USING gin (keys);
