-- +goose Up
-- The incremental update a signature or an issue appends to a version,
-- written ahead in the transaction that records the version (package
-- storage/blob/staged) and moved into the blob store by a job right after
-- the commit, which then deletes the row. Reads of key are answered from
-- base_key's object and tail while the row exists. A row pins base_key and
-- key: storage.BlobReferenced counts both, so neither the sweeper nor a
-- discard removes them.
CREATE TABLE staged_blobs (
    key          text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{64}$'),
    base_key     text NOT NULL CHECK (base_key ~ '^[0-9a-f]{64}$' AND base_key <> key),
    base_size    bigint NOT NULL CHECK (base_size > 0),
    -- crypto/sha256's state after the base's bytes: the mover checks the
    -- tail against key by hashing the tail alone.
    base_state   bytea NOT NULL,
    tail         bytea NOT NULL CHECK (length(tail) > 0),
    retain_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staged_blobs_base ON staged_blobs (base_key);

-- +goose Down
DROP TABLE staged_blobs;
