-- +goose Up
-- Chứng thực bản sao điện tử từ bản chính (Decree 23/2015 as amended): the
-- one-stop desk's requests to certify electronic copies of a citizen's paper
-- original, and the certified copies made. A certification's number is
-- taken from the organisation's certified-copies register (register_counters,
-- in the certifying transaction, so numbers have no gaps) and shared by
-- every copy of the request.

INSERT INTO roles (code, name) VALUES ('desk', 'Bộ phận tiếp nhận và trả kết quả (một cửa)')
    ON CONFLICT (code) DO NOTHING;

CREATE TABLE certifications (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id      uuid NOT NULL REFERENCES organizations (id),
    status               text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'scanned', 'refused', 'certified')),
    requester_name       text NOT NULL CHECK (requester_name <> '' AND length(requester_name) <= 200),
    requester_id_number  text NOT NULL CHECK (requester_id_number <> '' AND length(requester_id_number) <= 30),
    original_name        text NOT NULL CHECK (original_name <> '' AND length(original_name) <= 500),
    page_count           int NOT NULL CHECK (page_count BETWEEN 1 AND 2000),
    copies               int NOT NULL CHECK (copies BETWEEN 1 AND 50),
    fee                  bigint NOT NULL CHECK (fee >= 0), -- đồng
    received_at          timestamptz NOT NULL,
    -- The same day, or the next working day when received after 15:00;
    -- on_time is what the statistics count.
    due_at               timestamptz NOT NULL,
    opened_by            uuid NOT NULL REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    scan_blob_key        text CHECK (scan_blob_key ~ '^[0-9a-f]{64}$'),
    scan_size            bigint,
    scan_file_name       text NOT NULL DEFAULT '',
    scanned_by           uuid REFERENCES users (id),
    scanned_at           timestamptz,
    refusal_reasons      text[] NOT NULL DEFAULT '{}',
    refusal_note         text NOT NULL DEFAULT '',
    refused_by           uuid REFERENCES users (id),
    refused_at           timestamptz,
    register_id          uuid,
    year                 int,
    number               int CHECK (number >= 1),
    book                 text NOT NULL DEFAULT '',
    certified_by         uuid REFERENCES users (id),
    certifier_name       text NOT NULL DEFAULT '',
    certifier_title      text NOT NULL DEFAULT '',
    certified_at         timestamptz,
    on_time              boolean GENERATED ALWAYS AS (certified_at <= due_at) STORED,
    -- The citizen's download link: only the SHA-256 of its token is kept.
    link_hash            bytea UNIQUE CHECK (length(link_hash) = 32),
    link_expires_at      timestamptz,
    -- The receipt handed to the citizen (with the link's QR code).
    receipt_blob_key     text CHECK (receipt_blob_key ~ '^[0-9a-f]{64}$'),
    FOREIGN KEY (organization_id, register_id) REFERENCES registers (organization_id, id),
    UNIQUE (register_id, year, number),
    CHECK ((status = 'certified') = (number IS NOT NULL AND certified_at IS NOT NULL AND register_id IS NOT NULL)),
    CHECK ((status = 'refused') = (cardinality(refusal_reasons) > 0)),
    CHECK (status = 'received' OR status = 'refused' OR scan_blob_key IS NOT NULL)
);
CREATE INDEX certifications_org ON certifications (organization_id, created_at DESC);
CREATE INDEX certifications_scan ON certifications (scan_blob_key) WHERE scan_blob_key IS NOT NULL;
CREATE INDEX certifications_receipt ON certifications (receipt_blob_key) WHERE receipt_blob_key IS NOT NULL;
CREATE INDEX certifications_register ON certifications (register_id, year, number) WHERE number IS NOT NULL;

-- One certified copy: its signed file, kept permanently.
CREATE TABLE certified_copies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    certification_id uuid NOT NULL REFERENCES certifications (id),
    copy_number      int NOT NULL CHECK (copy_number >= 1),
    blob_key         text NOT NULL CHECK (blob_key ~ '^[0-9a-f]{64}$'),
    size             bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (certification_id, copy_number)
);
CREATE INDEX certified_copies_blob ON certified_copies (blob_key);

-- +goose Down
DROP TABLE certified_copies;
DROP TABLE certifications;
DELETE FROM roles WHERE code = 'desk' AND NOT EXISTS (SELECT 1 FROM user_roles WHERE role = 'desk');
