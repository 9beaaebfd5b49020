-- Per-owner rights, enforced by PostgreSQL too, and the trash.
--
-- The service refuses what a user may not do (service/rights.py, the rule's one home); the
-- policies below make PostgreSQL refuse the same to anyone connecting with a users' role (with
-- peer authentication each user is their own role), so a script cannot bypass the service.
-- Superusers and the tables' owner are not subject to row-level security: the embedded
-- database of a single user connects as its superuser, and an administrator's tools as the
-- owner. ``owner`` columns hold user names, compared with the connecting role's name.

-- Admins may manage everything. Kept in sync with FusionpipeApp.admins by a server that may
-- write it (the embedded database, or a server connecting as the owner); on a shared database
-- the administrator sets it with `fusionpipe admin admins set NAME...`. Users only read it.
CREATE TABLE fusionpipe_admins (
    name text PRIMARY KEY
);

-- SQL-standard bodies: the tables they read are bound now, so no temporary table of the same
-- name (pg_temp comes first in a search path) can stand in for them later.
CREATE FUNCTION fusionpipe_is_admin() RETURNS boolean
    LANGUAGE sql STABLE
    RETURN EXISTS (SELECT 1 FROM fusionpipe_admins a WHERE a.name = current_user);

-- The one rule, as PostgreSQL states it: the owner of a thing, or an admin.
CREATE FUNCTION fusionpipe_may_manage(owner text) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN owner = current_user OR fusionpipe_is_admin();

-- Deleted projects, pipelines and nodes: the rows they took with them, as JSON by table, and
-- where their folders were moved aside (inside the data folder). Restoring puts both back.
CREATE TABLE trash (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('project', 'pipeline', 'node')),
    item_id     text NOT NULL,
    tag         text NOT NULL,
    owner       text NOT NULL,        -- the owner of what was deleted
    deleted_by  text NOT NULL,
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL, -- purged for good after this
    -- Where it was: a node's pipeline, a pipeline's project (for the trash listing and for
    -- the message when restoring it is not possible).
    pipeline_id text,
    project_id  text,
    rows        jsonb NOT NULL,       -- {table: [row, ...]}
    folders     jsonb NOT NULL        -- [{node_id, folder, trashed}], relative to the data folder
);
CREATE INDEX trash_expires_idx ON trash (expires_at);
CREATE INDEX trash_item_idx ON trash (item_id);

-- Row-level security. Reading, adding and changing rows stays open to every user (shared
-- projects: everyone reads, runs and adds nodes); deleting, and the owner-only changes below,
-- are for the owner and the admins.
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE pipelines ENABLE ROW LEVEL SECURITY;
ALTER TABLE nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE pipeline_nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE trash ENABLE ROW LEVEL SECURITY;
ALTER TABLE fusionpipe_admins ENABLE ROW LEVEL SECURITY;

CREATE POLICY fusionpipe_read ON projects FOR SELECT USING (true);
CREATE POLICY fusionpipe_add ON projects FOR INSERT WITH CHECK (true);
CREATE POLICY fusionpipe_change ON projects FOR UPDATE USING (true) WITH CHECK (true);
CREATE POLICY fusionpipe_delete ON projects FOR DELETE USING (fusionpipe_may_manage(owner));

CREATE POLICY fusionpipe_read ON pipelines FOR SELECT USING (true);
CREATE POLICY fusionpipe_add ON pipelines FOR INSERT WITH CHECK (true);
CREATE POLICY fusionpipe_change ON pipelines FOR UPDATE USING (true) WITH CHECK (true);
CREATE POLICY fusionpipe_delete ON pipelines FOR DELETE USING (fusionpipe_may_manage(owner));

-- A node's row goes with its owner's say, or an admin's, or when every pipeline holding it is
-- the deleter's (deleting a pipeline takes the nodes only it holds, whoever added them). The
-- service deletes such nodes while their memberships still exist, for this check to see them.
CREATE POLICY fusionpipe_read ON nodes FOR SELECT USING (true);
CREATE POLICY fusionpipe_add ON nodes FOR INSERT WITH CHECK (true);
CREATE POLICY fusionpipe_change ON nodes FOR UPDATE USING (true) WITH CHECK (true);
CREATE POLICY fusionpipe_delete ON nodes FOR DELETE USING (
    fusionpipe_may_manage(owner)
    OR (EXISTS (SELECT 1 FROM pipeline_nodes m WHERE m.node_id = nodes.id)
        AND NOT EXISTS (
            SELECT 1 FROM pipeline_nodes m JOIN pipelines p ON p.id = m.pipeline_id
            WHERE m.node_id = nodes.id AND NOT fusionpipe_may_manage(p.owner)))
);

-- Taking a node out of a pipeline is deleting it there: for the node's owner, the pipeline's
-- owner or an admin. (Deleting a pipeline removes its memberships by cascade, which the
-- pipeline's own policy already allowed.)
CREATE POLICY fusionpipe_read ON pipeline_nodes FOR SELECT USING (true);
CREATE POLICY fusionpipe_add ON pipeline_nodes FOR INSERT WITH CHECK (true);
CREATE POLICY fusionpipe_change ON pipeline_nodes FOR UPDATE USING (true) WITH CHECK (true);
CREATE POLICY fusionpipe_delete ON pipeline_nodes FOR DELETE USING (
    fusionpipe_may_manage((SELECT p.owner FROM pipelines p WHERE p.id = pipeline_id))
    OR fusionpipe_may_manage((SELECT n.owner FROM nodes n WHERE n.id = node_id))
);

-- The trash: listed to everyone (the service shows each user their own), never changed;
-- purged or restored by who deleted it, the owner of what it holds, an admin, or anyone once
-- it has expired (a server's periodic purge).
CREATE POLICY fusionpipe_read ON trash FOR SELECT USING (true);
CREATE POLICY fusionpipe_add ON trash FOR INSERT WITH CHECK (true);
CREATE POLICY fusionpipe_delete ON trash FOR DELETE USING (
    fusionpipe_may_manage(deleted_by) OR fusionpipe_may_manage(owner) OR expires_at <= now()
);
-- Locking an item (SELECT ... FOR UPDATE, one restore or purge at a time) asks the UPDATE
-- policies: the same people may lock it, and nobody may change it.
CREATE POLICY fusionpipe_lock ON trash FOR UPDATE USING (
    fusionpipe_may_manage(deleted_by) OR fusionpipe_may_manage(owner) OR expires_at <= now()
) WITH CHECK (false);

-- The admins: read by everyone, written only by the owner (no policy lets anyone else).
CREATE POLICY fusionpipe_read ON fusionpipe_admins FOR SELECT USING (true);

-- Owner-only changes of a row that stays: a policy sees rows, not columns, so a trigger
-- compares the old and new values. row_security_active() is false exactly for those whom
-- row-level security does not bind (superusers, the tables' owner).
CREATE FUNCTION fusionpipe_owner_only_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF NEW.owner IS DISTINCT FROM OLD.owner AND NOT fusionpipe_is_admin() THEN
        RAISE EXCEPTION 'only an admin may change the owner of % %', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Nested: NEW.locked is only a field of pipelines, and is looked up only when reached.
    IF TG_TABLE_NAME = 'pipelines' THEN
        IF (NEW.locked IS DISTINCT FROM OLD.locked
            OR NEW.project_id IS DISTINCT FROM OLD.project_id)
           AND NOT fusionpipe_may_manage(OLD.owner) THEN
            RAISE EXCEPTION 'only % (the owner) or an admin may lock, unlock or move pipeline %',
                OLD.owner, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER fusionpipe_owner_only BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION fusionpipe_owner_only_changes();
CREATE TRIGGER fusionpipe_owner_only BEFORE UPDATE ON pipelines
    FOR EACH ROW EXECUTE FUNCTION fusionpipe_owner_only_changes();
CREATE TRIGGER fusionpipe_owner_only BEFORE UPDATE ON nodes
    FOR EACH ROW EXECUTE FUNCTION fusionpipe_owner_only_changes();

-- The trigger function resolves names when it runs: pin its search path to this schema, with
-- pg_temp last, so nothing a user creates can stand in for what it calls.
DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION fusionpipe_owner_only_changes() SET search_path = %I, pg_temp',
        current_schema());
END $$;
