-- The batch scheduler's job of a node execution (Slurm: "12", or "12" for a mapped node's job
-- array): how a restarted server takes it back, and what the panel shows beside its state.
ALTER TABLE run_nodes ADD COLUMN job_id text;
