-- +goose Up
-- A hold is a request that has hashed an upload and is about to commit a
-- version pointing at its blob. Blobs are shared by content (across
-- organisations too), so a request may delete a blob only when no row
-- references it and nobody else holds it. Holds are taken and checked under
-- the blob's advisory lock and released in the committing transaction; one
-- left by a killed process is ignored once abandoned (see storage.HoldBlob).
CREATE TABLE blob_holds (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    blob_key   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_holds_key ON blob_holds (blob_key);
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vanthu_service') THEN
        GRANT SELECT, INSERT, DELETE ON blob_holds TO vanthu_service;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE blob_holds;
