-- +goose Up
-- The audit log: one row per state change, appended in the change's own
-- transaction and hash-chained (each row's hash covers the previous row's),
-- so an edit, deletion or reordering done directly in the database shows.
CREATE TABLE audit_log (
    seq             bigint PRIMARY KEY,          -- assigned under the append lock: chain order
    at              timestamptz NOT NULL,
    actor           uuid,                        -- NULL: anonymous (failed login) or the operator
    actor_name      text NOT NULL DEFAULT '',
    organization_id uuid,
    action          text NOT NULL,
    object          text NOT NULL DEFAULT '',
    details         json NOT NULL DEFAULT '{}',  -- json, not jsonb: the hashed text is kept verbatim
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (organization_id, seq);
CREATE INDEX audit_log_object ON audit_log (object);

-- RFC 3161 timestamps of the chain head, so a deleted tail shows too.
CREATE TABLE audit_anchors (
    seq       bigint NOT NULL,                   -- the head entry timestamped
    head_hash bytea NOT NULL,
    token     bytea NOT NULL,                    -- TimeStampToken DER
    at        timestamptz NOT NULL,              -- genTime of the token
    PRIMARY KEY (seq)
);

-- Nobody rewrites history through the service: the owner could drop these
-- triggers, which is why the chain and its anchors exist.
-- +goose StatementBegin
CREATE FUNCTION forbid_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_audit_change();
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION forbid_audit_change();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_audit_change();

-- The role the service runs as, vanthu_service: it reads and writes the
-- application's tables but may only read and append the audit tables, so a
-- compromised service cannot rewrite history. Roles belong to the whole
-- cluster (many databases may share it), so the role is created only when
-- missing and only when the migrating role may create roles; two databases
-- migrated at once may race to create it, and the loser carries on. Without
-- the role (a managed database whose migrating role may not create roles)
-- nothing is granted here: the operator creates the service's role and the
-- service warns at start when it could rewrite the audit log.
-- ALTER DEFAULT PRIVILEGES grants the tables of later migrations (made by
-- the same migrating role) as they are created.
-- +goose StatementBegin
DO $$
DECLARE
    s text := current_schema();
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vanthu_service')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
        BEGIN
            CREATE ROLE vanthu_service LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created meanwhile by a migration of another database
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vanthu_service') THEN
        RAISE NOTICE 'role vanthu_service absent and not creatable: no grants made';
        RETURN;
    END IF;
    BEGIN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO vanthu_service', s);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot grant usage on schema %', s;
    END;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO vanthu_service', s);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO vanthu_service', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vanthu_service', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO vanthu_service', s);
    REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log, audit_anchors FROM vanthu_service;
    -- The schema version is the migrating role's business.
    IF to_regclass('goose_db_version') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON goose_db_version FROM vanthu_service;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'vanthu_service') THEN
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM vanthu_service', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM vanthu_service', current_schema());
    END IF;
END $$;
-- +goose StatementEnd
DROP TABLE audit_anchors;
DROP TABLE audit_log;
DROP FUNCTION forbid_audit_change;
