-- +goose Up
-- Văn bản đến: what arrives at an organisation (a delivery from another
-- organisation of this deployment, or a file its clerk uploads), the
-- verification report made at arrival, and the incoming register (sổ đăng
-- ký văn bản đến) whose số đến is taken from register_counters in the
-- registering transaction, like outgoing numbers.

CREATE TABLE arrivals (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id      uuid NOT NULL REFERENCES organizations (id), -- the receiver
    source               text NOT NULL CHECK (source IN ('delivery', 'upload')),
    medium               text NOT NULL DEFAULT 'electronic' CHECK (medium IN ('electronic', 'paper')),
    delivery_id          uuid UNIQUE REFERENCES document_deliveries (id),
    sent_document_id     uuid REFERENCES documents (id), -- the sender's issued document
    from_organization_id uuid REFERENCES organizations (id),
    -- Appendix VI: the issuer and the document as it names itself.
    from_name            text NOT NULL CHECK (from_name <> '' AND length(from_name) <= 200),
    code_number          text NOT NULL DEFAULT '' CHECK (code_number ~ '^[0-9]{0,11}$'),
    code_notation        text NOT NULL DEFAULT '' CHECK (length(code_notation) <= 30),
    issued_date          date,
    type_code            text NOT NULL REFERENCES document_types (code),
    subject              text NOT NULL CHECK (subject <> ''),
    signer_name          text NOT NULL DEFAULT '',
    signer_position      text NOT NULL DEFAULT '',
    urgency              text NOT NULL DEFAULT 'thuong' REFERENCES urgency_levels (code),
    confidentiality      text NOT NULL DEFAULT 'thuong' REFERENCES confidentiality_levels (code),
    -- The duplicate check's key (same issuer, number, symbol, year), folded
    -- so that "05" and "5", "QĐ-UBND" and "qd-ubnd" meet.
    dup_key              text NOT NULL DEFAULT '',
    -- The file as it arrived.
    blob_key             text NOT NULL CHECK (blob_key ~ '^[0-9a-f]{64}$'),
    size                 bigint NOT NULL,
    file_name            text NOT NULL,
    signed               boolean NOT NULL DEFAULT false,
    verdict              text NOT NULL,
    verification         jsonb NOT NULL,
    status               text NOT NULL DEFAULT 'arrived' CHECK (status IN ('arrived', 'registered', 'returned', 'recalled')),
    reason               text NOT NULL DEFAULT '', -- why it was returned
    duplicate_reason     text NOT NULL DEFAULT '', -- why a duplicate was registered all the same
    received_by          uuid REFERENCES users (id), -- the clerk who uploaded it; NULL for a delivery
    arrived_at           timestamptz NOT NULL DEFAULT now(),
    document_id          uuid UNIQUE REFERENCES documents (id), -- the incoming document, once registered
    recall_requested_at  timestamptz,
    recall_reason        text NOT NULL DEFAULT '',
    recall_confirmed_at  timestamptz,
    recall_confirmed_by  uuid REFERENCES users (id),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((source = 'delivery') = (delivery_id IS NOT NULL)),
    CHECK ((status = 'registered') <= (document_id IS NOT NULL))
);
CREATE INDEX arrivals_queue ON arrivals (organization_id, status, arrived_at DESC);
CREATE INDEX arrivals_sent_document ON arrivals (sent_document_id) WHERE sent_document_id IS NOT NULL;
CREATE INDEX arrivals_blob ON arrivals (blob_key);
CREATE INDEX arrivals_dup ON arrivals (organization_id, dup_key) WHERE dup_key <> '';
-- Registered once: a second registration of the same arrival key needs a
-- reason (duplicate_reason), whatever races the check in the service.
CREATE UNIQUE INDEX arrivals_registered_once ON arrivals (organization_id, dup_key)
    WHERE dup_key <> '' AND document_id IS NOT NULL AND duplicate_reason = '';

-- One registered incoming document (Appendix IV, sổ đăng ký văn bản đến):
-- Ngày đến | Số đến | Tác giả | Số, ký hiệu | Ngày tháng văn bản | Tên loại
-- và trích yếu | Đơn vị hoặc người nhận | Ngày chuyển | Ký nhận | Ghi chú.
CREATE TABLE incoming_entries (
    register_id     uuid NOT NULL,
    organization_id uuid NOT NULL,
    year            int NOT NULL,
    number          int NOT NULL CHECK (number >= 1), -- số đến
    arrival_id      uuid NOT NULL UNIQUE REFERENCES arrivals (id),
    document_id     uuid NOT NULL UNIQUE REFERENCES documents (id),
    arrived_at      timestamptz NOT NULL,             -- ngày đến
    registered_at   timestamptz NOT NULL,
    registered_by   uuid NOT NULL REFERENCES users (id),
    issuer          text NOT NULL,                    -- tác giả
    number_symbol   text NOT NULL DEFAULT '',         -- số, ký hiệu văn bản
    issued_date     date,                             -- ngày tháng văn bản
    type_code       text NOT NULL,
    subject         text NOT NULL,
    receiver        text NOT NULL DEFAULT '',         -- đơn vị hoặc người nhận
    transferred_on  date,                             -- ngày chuyển
    note            text NOT NULL DEFAULT '',
    PRIMARY KEY (register_id, year, number),
    FOREIGN KEY (organization_id, register_id) REFERENCES registers (organization_id, id)
);

-- +goose Down
DROP TABLE incoming_entries;
DROP TABLE arrivals;
