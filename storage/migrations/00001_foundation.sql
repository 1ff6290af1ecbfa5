-- +goose Up
CREATE TABLE document_types (
    code       text PRIMARY KEY,           -- abbreviation in the symbol, e.g. QĐ; CV for công văn
    name       text NOT NULL,
    in_symbol  boolean NOT NULL DEFAULT true, -- công văn and thư công carry no abbreviation
    is_copy    boolean NOT NULL DEFAULT false
);

INSERT INTO document_types (code, name, in_symbol, is_copy) VALUES
    ('NQ', 'Nghị quyết', true, false),
    ('QĐ', 'Quyết định', true, false),
    ('CT', 'Chỉ thị', true, false),
    ('QC', 'Quy chế', true, false),
    ('QyĐ', 'Quy định', true, false),
    ('TC', 'Thông cáo', true, false),
    ('TB', 'Thông báo', true, false),
    ('HD', 'Hướng dẫn', true, false),
    ('CTr', 'Chương trình', true, false),
    ('KH', 'Kế hoạch', true, false),
    ('PA', 'Phương án', true, false),
    ('ĐA', 'Đề án', true, false),
    ('DA', 'Dự án', true, false),
    ('BC', 'Báo cáo', true, false),
    ('BB', 'Biên bản', true, false),
    ('TTr', 'Tờ trình', true, false),
    ('HĐ', 'Hợp đồng', true, false),
    ('CĐ', 'Công điện', true, false),
    ('BGN', 'Bản ghi nhớ', true, false),
    ('BTT', 'Bản thỏa thuận', true, false),
    ('GUQ', 'Giấy ủy quyền', true, false),
    ('GM', 'Giấy mời', true, false),
    ('GGT', 'Giấy giới thiệu', true, false),
    ('GNP', 'Giấy nghỉ phép', true, false),
    ('PG', 'Phiếu gửi', true, false),
    ('PC', 'Phiếu chuyển', true, false),
    ('PB', 'Phiếu báo', true, false),
    ('CV', 'Công văn', false, false),
    ('TCONG', 'Thư công', false, false),
    ('SY', 'Bản sao y', true, true),
    ('TrS', 'Bản trích sao', true, true),
    ('SL', 'Bản sao lục', true, true);

CREATE TABLE urgency_levels (
    code text PRIMARY KEY,
    name text NOT NULL,
    rank int NOT NULL UNIQUE
);
INSERT INTO urgency_levels (code, name, rank) VALUES
    ('thuong', 'Thường', 0), ('khan', 'Khẩn', 1), ('thuong-khan', 'Thượng khẩn', 2), ('hoa-toc', 'Hỏa tốc', 3);

CREATE TABLE confidentiality_levels (
    code text PRIMARY KEY,
    name text NOT NULL,
    rank int NOT NULL UNIQUE
);
INSERT INTO confidentiality_levels (code, name, rank) VALUES
    ('thuong', 'Thường', 0), ('mat', 'Mật', 1), ('toi-mat', 'Tối mật', 2), ('tuyet-mat', 'Tuyệt mật', 3);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text NOT NULL UNIQUE,
    full_name     text NOT NULL,
    is_superadmin boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id),
    name        text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,  -- SHA-256 of the token; the token itself is shown once
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);

CREATE TABLE documents (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type_code       text NOT NULL REFERENCES document_types (code),
    subject         text NOT NULL,
    urgency         text NOT NULL DEFAULT 'thuong' REFERENCES urgency_levels (code),
    confidentiality text NOT NULL DEFAULT 'thuong' REFERENCES confidentiality_levels (code),
    unit            text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'draft',
    number          text,
    search_text     text NOT NULL,          -- subject and number without diacritics, lower case
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_keyset ON documents (created_at DESC, id DESC);
CREATE INDEX documents_type ON documents (type_code, created_at DESC);

CREATE TABLE document_versions (
    document_id  uuid NOT NULL REFERENCES documents (id),
    number       int NOT NULL CHECK (number >= 1),
    blob_key     text NOT NULL CHECK (blob_key ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL,
    file_name    text NOT NULL,
    signed       boolean NOT NULL DEFAULT false,
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, number)
);
CREATE INDEX document_versions_blob ON document_versions (blob_key);

-- Versions are immutable: the bytes they name were signed or read by someone.
-- +goose StatementBegin
CREATE FUNCTION forbid_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'document versions are immutable';
END $$;
-- +goose StatementEnd
CREATE TRIGGER document_versions_immutable BEFORE UPDATE OR DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_version_change();

CREATE TABLE idempotency_keys (
    user_id     uuid NOT NULL REFERENCES users (id),
    key         text NOT NULL,
    document_id uuid NOT NULL REFERENCES documents (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE document_versions;
DROP FUNCTION forbid_version_change;
DROP TABLE documents;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE confidentiality_levels;
DROP TABLE urgency_levels;
DROP TABLE document_types;
