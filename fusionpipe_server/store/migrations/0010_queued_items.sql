-- An item that runs as a task of a batch job array still waiting in the scheduler's queue
-- (Slurm's PENDING): running for fusionpipe, queued for the user, who sees it apart. Set and
-- cleared by the server that watches the array (service/runs/queued.py); the partial index
-- keeps counting them free for the graph's every node.
ALTER TABLE node_items ADD COLUMN queued boolean NOT NULL DEFAULT false;
CREATE INDEX node_items_queued ON node_items (node_id) WHERE queued;
