-- +goose Up
-- The principal of an API token (storage.UserByToken) is kept in memory by
-- the service that read it (accounts, the token cache) only while it
-- listens on vanthu_auth_changed: every change to a table the principal is
-- read from tells it, whoever writes (the service, `vanthu admin` in
-- another process, plain SQL), so a revoked token, a disabled account or a
-- removed role is refused within the notification's delivery. A NOTIFY is
-- sent at commit and once per transaction whatever the rows, and none at
-- all when the transaction rolls back.
-- +goose StatementBegin
CREATE FUNCTION auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vanthu_auth_changed', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER users_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER user_roles_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_roles
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER user_units_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_units
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();

-- +goose Down
DROP TRIGGER user_units_auth_changed ON user_units;
DROP TRIGGER user_roles_auth_changed ON user_roles;
DROP TRIGGER users_auth_changed ON users;
DROP TRIGGER api_tokens_auth_changed ON api_tokens;
DROP FUNCTION auth_changed();
