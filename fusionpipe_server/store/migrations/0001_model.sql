-- The pipeline model: projects, pipelines with lineage, nodes shared by reference between
-- pipelines, global parent->child edges with input slots, per-pipeline layout and groups.
-- Every foreign key is indexed; ids are application-made prefixed strings.

CREATE TABLE projects (
    id          text PRIMARY KEY,
    tag         text NOT NULL,
    notes       text NOT NULL DEFAULT '',
    owner       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pipelines (
    id          text PRIMARY KEY,
    project_id  text NOT NULL REFERENCES projects (id),
    tag         text NOT NULL,
    notes       text NOT NULL DEFAULT '',
    owner       text NOT NULL,
    locked      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pipelines_tag_unique UNIQUE (tag)
);
CREATE INDEX pipelines_project_idx ON pipelines (project_id);

-- Lineage: the child pipeline was made from the parent by branch, duplicate or merge.
CREATE TABLE pipeline_lineage (
    child_id    text NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    parent_id   text NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    relation    text NOT NULL CHECK (relation IN ('branch', 'duplicate', 'merge')),
    PRIMARY KEY (child_id, parent_id)
);
CREATE INDEX pipeline_lineage_parent_idx ON pipeline_lineage (parent_id);

CREATE TABLE nodes (
    id          text PRIMARY KEY,
    project_id  text NOT NULL REFERENCES projects (id),
    tag         text NOT NULL,
    notes       text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT 'python'
                CHECK (kind IN ('python', 'notebook', 'matlab', 'shell')),
    status      text NOT NULL DEFAULT 'ready'
                CHECK (status IN ('ready', 'running', 'completed', 'failed', 'staledata')),
    locked      boolean NOT NULL DEFAULT false,
    owner       text NOT NULL,
    -- Relative to the data folder; resolved and checked to stay inside it on every use.
    folder      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nodes_project_idx ON nodes (project_id);

-- Edges are global (a node has the same parents in every pipeline that holds it); a pipeline's
-- graph is its member nodes plus the edges whose child is a member.
CREATE TABLE edges (
    id          text PRIMARY KEY,
    parent_id   text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    child_id    text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    slot        text NOT NULL,
    CONSTRAINT edges_pair_unique UNIQUE (child_id, parent_id),
    CONSTRAINT edges_slot_unique UNIQUE (child_id, slot),
    CONSTRAINT edges_no_self_loop CHECK (parent_id <> child_id)
);
CREATE INDEX edges_parent_idx ON edges (parent_id);

CREATE TABLE node_groups (
    id          text PRIMARY KEY,
    pipeline_id text NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    tag         text NOT NULL DEFAULT '',
    collapsed   boolean NOT NULL DEFAULT false,
    x           double precision NOT NULL DEFAULT 0,
    y           double precision NOT NULL DEFAULT 0,
    width       double precision NOT NULL DEFAULT 400,
    height      double precision NOT NULL DEFAULT 300
);
CREATE INDEX node_groups_pipeline_idx ON node_groups (pipeline_id);

-- Membership of a node in a pipeline, with its position and group there. A node held by more
-- than one pipeline is "referenced" (derived, never stored).
CREATE TABLE pipeline_nodes (
    pipeline_id text NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    node_id     text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    x           double precision NOT NULL DEFAULT 0,
    y           double precision NOT NULL DEFAULT 0,
    group_id    text REFERENCES node_groups (id) ON DELETE SET NULL,
    PRIMARY KEY (pipeline_id, node_id)
);
CREATE INDEX pipeline_nodes_node_idx ON pipeline_nodes (node_id);
CREATE INDEX pipeline_nodes_group_idx ON pipeline_nodes (group_id);
