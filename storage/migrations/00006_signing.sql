-- +goose Up
-- Signing in the service: each organisation's PAdES level, each user's
-- handwritten-signature image, and the two-step (desk token) signing
-- sessions. Nothing secret is stored: a session keeps what was prepared
-- (the version, the signing parameters, the hash to be signed), never a key,
-- PIN or signature value.

ALTER TABLE organizations
    ADD COLUMN signing_level text NOT NULL DEFAULT 'B-T' CHECK (signing_level IN ('B-T', 'B-LT', 'B-LTA'));

-- The signer's handwritten signature, drawn between the printed title and
-- name: a PNG with transparency, small.
CREATE TABLE signature_images (
    user_id    uuid PRIMARY KEY REFERENCES users (id),
    png        bytea NOT NULL CHECK (octet_length(png) <= 262144),
    sha256     text NOT NULL,
    width      int NOT NULL CHECK (width > 0),
    height     int NOT NULL CHECK (height > 0),
    updated_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A prepared two-step signature: the service reserved the signature's place
-- in version `version` of the document and handed out `digest`; complete
-- brings the signature value within the session's lifetime.
CREATE TABLE sign_sessions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id       uuid NOT NULL REFERENCES documents (id),
    user_id           uuid NOT NULL REFERENCES users (id),
    key_binding_id    uuid NOT NULL REFERENCES key_bindings (id),
    version           int NOT NULL,
    version_sha256    text NOT NULL,
    params            jsonb NOT NULL,            -- level, place, signing time, authority form: what Prepare is re-run with
    digest            bytea NOT NULL,            -- hash of the signed attributes
    signed_attributes bytea NOT NULL,
    digest_algorithm  text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    completed_at      timestamptz,
    completed_version int
);
CREATE INDEX sign_sessions_document ON sign_sessions (document_id, created_at);

-- +goose Down
DROP TABLE sign_sessions;
DROP TABLE signature_images;
ALTER TABLE organizations DROP COLUMN signing_level;
