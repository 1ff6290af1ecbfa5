-- +goose Up
-- Phát hành: each organisation's registers (sổ) and series, the
-- per-register-per-year counters that number documents without gaps, the
-- register entries of issued documents, and their deliveries.

CREATE TABLE registers (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    kind            text NOT NULL CHECK (kind IN ('outgoing', 'incoming', 'copies', 'certified-copies')),
    name            text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    code            text NOT NULL DEFAULT '' CHECK (length(code) <= 30),
    document_types  text[] NOT NULL DEFAULT '{}', -- a type-specific series; empty: every type
    confidential    boolean NOT NULL DEFAULT false, -- documents marked mật or above are numbered here
    is_default      boolean NOT NULL DEFAULT false, -- the register every organisation has of its kind
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, id)
);
CREATE UNIQUE INDEX registers_default ON registers (organization_id, kind) WHERE is_default;
CREATE UNIQUE INDEX registers_name ON registers (organization_id, kind, name);

-- The organisation's default registers, with every organisation.
-- +goose StatementBegin
CREATE FUNCTION create_default_registers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO registers (organization_id, kind, name, code, is_default) VALUES
        (NEW.id, 'outgoing', 'Sổ đăng ký văn bản đi', '', true),
        (NEW.id, 'incoming', 'Sổ đăng ký văn bản đến', '', true),
        (NEW.id, 'copies', 'Sổ đăng ký bản sao văn bản', '', true),
        (NEW.id, 'certified-copies', 'Sổ chứng thực bản sao điện tử từ bản chính', 'SCTĐT/BS', true);
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER organizations_default_registers AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION create_default_registers();

INSERT INTO registers (organization_id, kind, name, code, is_default)
SELECT o.id, k.kind, k.name, k.code, true
FROM organizations o CROSS JOIN (VALUES
    ('outgoing', 'Sổ đăng ký văn bản đi', ''),
    ('incoming', 'Sổ đăng ký văn bản đến', ''),
    ('copies', 'Sổ đăng ký bản sao văn bản', ''),
    ('certified-copies', 'Sổ chứng thực bản sao điện tử từ bản chính', 'SCTĐT/BS')) AS k (kind, name, code);

-- The last number taken in a register's year (Vietnam time). A row, not a
-- sequence: it is updated in the issuing transaction, so a rollback gives
-- the number back and numbers have no gaps.
CREATE TABLE register_counters (
    register_id uuid NOT NULL REFERENCES registers (id),
    year        int NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    last_number int NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (register_id, year)
);

-- One issued document in its register (Appendix IV, sổ đăng ký văn bản đi).
CREATE TABLE register_entries (
    register_id     uuid NOT NULL,
    organization_id uuid NOT NULL,
    year            int NOT NULL,
    number          int NOT NULL CHECK (number >= 1),
    symbol          text NOT NULL,
    document_id     uuid NOT NULL UNIQUE REFERENCES documents (id),
    version         int NOT NULL,
    issued_at       timestamptz NOT NULL,
    issued_by       uuid NOT NULL REFERENCES users (id),
    type_code       text NOT NULL,
    subject         text NOT NULL,
    signer_name     text NOT NULL DEFAULT '',
    recipients      text NOT NULL DEFAULT '',
    copies_kept     text NOT NULL DEFAULT '',
    copies          int NOT NULL DEFAULT 1 CHECK (copies >= 0),
    note            text NOT NULL DEFAULT '',
    PRIMARY KEY (register_id, year, number),
    FOREIGN KEY (organization_id, register_id) REFERENCES registers (organization_id, id),
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, number),
    -- Decree 30: number and symbol are unique in a series and year. Two
    -- series of one issuer (the ordinary and the confidential) may reach
    -- the same number and symbol: issuing warns on that clash.
    UNIQUE (register_id, year, number, symbol)
);

ALTER TABLE documents ADD COLUMN issued_at timestamptz;

-- Where an issued document was sent: an organisation of this deployment
-- (which then reads it through document_recipients) or an outside address.
CREATE INDEX register_entries_symbol ON register_entries (organization_id, year, symbol);

CREATE TABLE document_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id     uuid NOT NULL REFERENCES documents (id),
    organization_id uuid REFERENCES organizations (id),
    name            text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    channel         text NOT NULL CHECK (channel IN ('internal', 'email')),
    status          text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'arrived', 'registered', 'returned', 'completed', 'recalled')),
    reason          text NOT NULL DEFAULT '',
    sent_at         timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((channel = 'internal') = (organization_id IS NOT NULL)),
    CHECK (channel <> 'email' OR email <> '')
);
CREATE INDEX document_deliveries_document ON document_deliveries (document_id);
CREATE INDEX document_deliveries_org ON document_deliveries (organization_id) WHERE organization_id IS NOT NULL;

-- +goose Down
DROP TABLE document_deliveries;
ALTER TABLE documents DROP COLUMN issued_at;
DROP TABLE register_entries;
DROP TABLE register_counters;
DROP TRIGGER organizations_default_registers ON organizations;
DROP FUNCTION create_default_registers;
DROP TABLE registers;
