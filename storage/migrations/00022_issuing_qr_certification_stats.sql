-- +goose Up
-- An organisation's rules for issuing: verify_qr draws the QR code of the
-- issued file's public verification URL (/v/{code}) into the
-- organisation's signature. No row is the default (no QR code).
CREATE TABLE issuing_settings (
    organization_id uuid PRIMARY KEY REFERENCES organizations (id),
    verify_qr       boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      uuid REFERENCES users (id)
);

-- Certifications counted on time or late per month of their receipt.
CREATE INDEX certifications_received ON certifications (organization_id, received_at);

-- +goose Down
DROP INDEX certifications_received;
DROP TABLE issuing_settings;
