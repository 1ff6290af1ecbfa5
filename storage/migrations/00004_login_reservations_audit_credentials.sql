-- +goose Up
-- Login attempts are reserved before their password is hashed, so that
-- concurrent attempts cannot all pass the check before any is counted:
-- pending counts the attempts in flight, failures those that failed, and
-- refused the attempts the lock turned away in its current period (the
-- first of them is audited, not every one).
ALTER TABLE login_throttle
    ADD COLUMN pending int NOT NULL DEFAULT 0,
    ADD COLUMN refused int NOT NULL DEFAULT 0;

-- Whose credential did it: sessions get an identifier the audit log can
-- name (their key is a hash of the cookie), tokens remember who minted them.
ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE;
ALTER TABLE api_tokens
    ADD COLUMN created_by      uuid REFERENCES users (id), -- NULL: the operator, the bootstrap, or before this column
    ADD COLUMN created_by_name text NOT NULL DEFAULT '';

-- Each audit entry names the credential used (token:<id> or session:<id>)
-- and, for a token minted by someone else, the minter. They enter the hash
-- only when set, so entries made before stay verifiable.
ALTER TABLE audit_log
    ADD COLUMN credential     text NOT NULL DEFAULT '',
    ADD COLUMN minted_by      uuid,
    ADD COLUMN minted_by_name text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN minted_by_name, DROP COLUMN minted_by, DROP COLUMN credential;
ALTER TABLE api_tokens DROP COLUMN created_by_name, DROP COLUMN created_by;
ALTER TABLE sessions DROP COLUMN id;
ALTER TABLE login_throttle DROP COLUMN refused, DROP COLUMN pending;
