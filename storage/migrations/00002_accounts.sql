-- +goose Up
-- The directory (organisations, units, users and their roles), signing
-- authority (delegations, key bindings) and authentication state (password
-- hashes, sessions, token scopes, login throttling).

CREATE TABLE organizations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The issuer's code in document symbols (05/QĐ-UBND): no spaces, slashes
    -- or hyphens, which separate the parts of a symbol.
    code       text NOT NULL UNIQUE CHECK (code ~ '^[^\s/-]{1,20}$'),
    name       text NOT NULL CHECK (name <> ''),
    parent_id  uuid REFERENCES organizations (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE units (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    code            text NOT NULL CHECK (code ~ '^[^\s/-]{1,20}$'),
    name            text NOT NULL CHECK (name <> ''),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, code),
    UNIQUE (organization_id, id) -- lets user_units and documents check the unit's organisation
);

-- The bootstrap administrator (is_superadmin) belongs to no organisation;
-- everyone else belongs to exactly one.
ALTER TABLE users
    ADD COLUMN organization_id uuid REFERENCES organizations (id),
    ADD COLUMN title           text NOT NULL DEFAULT '',
    ADD COLUMN password_hash   text,          -- argon2id PHC string; NULL: no password login
    ADD COLUMN disabled_at     timestamptz,
    ADD CONSTRAINT users_org_or_superadmin CHECK (is_superadmin OR organization_id IS NOT NULL);

CREATE TABLE user_units (
    user_id         uuid NOT NULL REFERENCES users (id),
    organization_id uuid NOT NULL,
    unit_id         uuid NOT NULL,
    PRIMARY KEY (user_id, unit_id),
    FOREIGN KEY (organization_id, unit_id) REFERENCES units (organization_id, id)
);

CREATE TABLE roles (
    code text PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO roles (code, name) VALUES
    ('drafter', 'Chuyên viên soạn thảo'),
    ('reviewer', 'Lãnh đạo phòng (kiểm tra)'),
    ('signer', 'Người ký'),
    ('clerk', 'Văn thư'),
    ('certifier', 'Người thực hiện chứng thực'),
    ('auditor', 'Kiểm tra, thanh tra'),
    ('admin', 'Quản trị');

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users (id),
    role    text NOT NULL REFERENCES roles (code),
    PRIMARY KEY (user_id, role)
);

-- Scopes narrow what a token may do within its user's rights; '*' is all.
ALTER TABLE api_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT '{*}';
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,            -- SHA-256 of the cookie value
    user_id      uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per subject ('user:<name>' or 'ip:<address>'), counted in a
-- window, with a lockout once too many accumulate.
CREATE TABLE login_throttle (
    subject      text PRIMARY KEY,
    failures     int NOT NULL DEFAULT 0,
    window_start timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz
);

-- Signing authority passed from one user to another (Decree 30 art. 13).
CREATE TABLE delegations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    from_user       uuid NOT NULL REFERENCES users (id),
    to_user         uuid NOT NULL REFERENCES users (id) CHECK (to_user <> from_user),
    form            text NOT NULL CHECK (form IN ('TM', 'KT', 'Q', 'TL', 'TUQ')),
    document_types  text[] NOT NULL DEFAULT '{}', -- empty: every type
    unit_ids        uuid[] NOT NULL DEFAULT '{}', -- empty: every unit
    parent_id       uuid REFERENCES delegations (id), -- a TL. passed on from this one
    basis           text NOT NULL DEFAULT '',     -- the written decision or authorisation
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by      uuid REFERENCES users (id), -- NULL: the operator, from the command line
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX delegations_to ON delegations (to_user, starts_at);

-- A signing key bound to a user, or the organisation's seal key. Neither
-- PINs nor passwords are stored: PKCS#11 PINs come from the service's
-- configuration, and a keystore PKCS#12 is kept sealed under the keystore
-- key, which lives outside the database.
CREATE TABLE key_bindings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid REFERENCES users (id),
    organization_id uuid REFERENCES organizations (id),
    kind            text NOT NULL CHECK (kind IN ('pkcs11', 'pkcs12', 'external')),
    uri             text NOT NULL DEFAULT '',  -- pkcs11: URI without PIN
    sealed_key      bytea,                     -- pkcs12: the key sealed under the keystore key
    certificate     bytea NOT NULL,            -- DER of the signer certificate
    chain           bytea[] NOT NULL DEFAULT '{}',
    fingerprint     text NOT NULL,             -- SHA-256 of the certificate, hex
    subject         text NOT NULL,
    not_before      timestamptz NOT NULL,
    not_after       timestamptz NOT NULL,
    created_by      uuid REFERENCES users (id), -- NULL: the operator, from the command line
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    CHECK ((user_id IS NULL) <> (organization_id IS NULL)),
    CHECK ((kind = 'pkcs12') = (sealed_key IS NOT NULL)),
    CHECK ((kind = 'pkcs11') = (uri <> ''))
);
CREATE INDEX key_bindings_user ON key_bindings (user_id);
CREATE INDEX key_bindings_org ON key_bindings (organization_id);

-- Documents belong to an organisation and, optionally, the unit drafting them.
ALTER TABLE documents
    ADD COLUMN organization_id uuid REFERENCES organizations (id),
    ADD COLUMN unit_id uuid,
    ADD CONSTRAINT documents_unit FOREIGN KEY (organization_id, unit_id) REFERENCES units (organization_id, id);
CREATE INDEX documents_org ON documents (organization_id, created_at DESC, id DESC);

-- What was sent to an organisation (or one of its units) is readable there.
CREATE TABLE document_recipients (
    document_id     uuid NOT NULL REFERENCES documents (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    unit_id         uuid,
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, organization_id),
    FOREIGN KEY (organization_id, unit_id) REFERENCES units (organization_id, id)
);
CREATE INDEX document_recipients_org ON document_recipients (organization_id);

-- +goose Down
DROP TABLE document_recipients;
ALTER TABLE documents DROP CONSTRAINT documents_unit, DROP COLUMN unit_id, DROP COLUMN organization_id;
DROP TABLE key_bindings;
DROP TABLE delegations;
DROP TABLE login_throttle;
DROP TABLE sessions;
ALTER TABLE api_tokens DROP COLUMN scopes;
DROP TABLE user_roles;
DROP TABLE roles;
DROP TABLE user_units;
ALTER TABLE users DROP CONSTRAINT users_org_or_superadmin, DROP COLUMN disabled_at, DROP COLUMN password_hash,
    DROP COLUMN title, DROP COLUMN organization_id;
DROP TABLE units;
DROP TABLE organizations;
