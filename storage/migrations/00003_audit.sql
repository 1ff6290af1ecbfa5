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

-- +goose Down
DROP TABLE audit_anchors;
DROP TABLE audit_log;
DROP FUNCTION forbid_audit_change;
