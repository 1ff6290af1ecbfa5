-- +goose Up
-- Audit entries are chained at commit. A transaction records its entries in
-- audit_pending as it goes (no lock); when it commits, a deferred trigger
-- takes the log's append lock, reads the head, hashes each entry onto it
-- and moves it into audit_log. The lock is thus held only from the
-- transaction's commit-time triggers to the end of its commit, with no
-- round trip to the service in between, instead of from the entry's
-- insert to the commit: appends still commit one at a time in seq order,
-- but each holds the lock for a fraction of the time.
--
-- The hash written here is the one audit.Entry.computeHash (Go) checks:
-- SHA-256 over each field preceded by its length as 8 big-endian bytes
-- (seq in decimal, at as 2006-01-02T15:04:05.000000Z, the uuids in their
-- text form, details verbatim, prev_hash; the credential fields after
-- them only when one is set). The Go tests append through here and verify
-- through computeHash, so the two cannot drift apart unnoticed.
CREATE TABLE audit_pending (
    id              bigserial PRIMARY KEY,       -- the order entries were recorded in their transaction
    actor           uuid,
    actor_name      text NOT NULL DEFAULT '',
    organization_id uuid,
    action          text NOT NULL,
    object          text NOT NULL DEFAULT '',
    details         json NOT NULL DEFAULT '{}',
    credential      text NOT NULL DEFAULT '',
    minted_by       uuid,
    minted_by_name  text NOT NULL DEFAULT ''
);

-- +goose StatementBegin
CREATE FUNCTION audit_chain_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash bytea;
    entry_at  timestamptz;
    fields    bytea[];
    f         bytea;
    msg       bytea := '';
BEGIN
    -- Each statement below takes a fresh snapshot only at READ COMMITTED:
    -- at a stricter level the head read after waiting for the lock would
    -- miss the appends committed meanwhile.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit: append needs a READ COMMITTED transaction, not %', upper(current_setting('transaction_isolation'));
    END IF;
    -- The same lock audit.go names (vanthu.audit.append): held to the end
    -- of this commit, so seq order is chain order and commit order.
    PERFORM pg_advisory_xact_lock(hashtextextended('vanthu.audit.append', 0));
    SELECT seq, hash INTO head_seq, head_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := decode(repeat('00', 32), 'hex');
    END IF;
    entry_at := date_trunc('microseconds', clock_timestamp());
    fields := ARRAY[
        convert_to((head_seq + 1)::text, 'UTF8'),
        convert_to(to_char(entry_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8'),
        convert_to(coalesce(NEW.actor::text, ''), 'UTF8'),
        convert_to(NEW.actor_name, 'UTF8'),
        convert_to(coalesce(NEW.organization_id::text, ''), 'UTF8'),
        convert_to(NEW.action, 'UTF8'),
        convert_to(NEW.object, 'UTF8'),
        convert_to(NEW.details::text, 'UTF8'),
        head_hash];
    IF NEW.credential <> '' OR NEW.minted_by IS NOT NULL OR NEW.minted_by_name <> '' THEN
        fields := fields || ARRAY[
            convert_to(NEW.credential, 'UTF8'),
            convert_to(coalesce(NEW.minted_by::text, ''), 'UTF8'),
            convert_to(NEW.minted_by_name, 'UTF8')];
    END IF;
    FOREACH f IN ARRAY fields LOOP
        msg := msg || int8send(octet_length(f)) || f;
    END LOOP;
    INSERT INTO audit_log (seq, at, actor, actor_name, organization_id, action, object, details, prev_hash, hash,
        credential, minted_by, minted_by_name)
    VALUES (head_seq + 1, entry_at, NEW.actor, NEW.actor_name, NEW.organization_id, NEW.action, NEW.object, NEW.details, head_hash, sha256(msg),
        NEW.credential, NEW.minted_by, NEW.minted_by_name);
    DELETE FROM audit_pending WHERE id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Deferred: fired at commit, in the order the entries were recorded.
CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain_pending();

-- The service appends (INSERT) and the trigger, running as the service,
-- removes what it chained (DELETE); it neither reads nor changes them
-- otherwise. The default privileges of 00003 granted more.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'vanthu_service') THEN
        REVOKE UPDATE, TRUNCATE, REFERENCES, TRIGGER ON audit_pending FROM vanthu_service;
        GRANT SELECT, INSERT, DELETE ON audit_pending TO vanthu_service;
        GRANT USAGE ON SEQUENCE audit_pending_id_seq TO vanthu_service;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_pending;
DROP FUNCTION audit_chain_pending;
