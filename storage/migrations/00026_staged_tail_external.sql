-- +goose Up
-- A staged tail (storage/blob/staged) is a signature's or an issue's
-- incremental update: its bulk is already-deflated image streams and the
-- CMS's hex, which pglz cannot shrink enough to keep, yet with the
-- default EXTENDED storage PostgreSQL tries it over the whole value (the
-- PDF dictionaries at its start compress, so pglz does not give up early)
-- on every insert, inside the transaction that waits for it. EXTERNAL stores the
-- tail out of line without trying: the same WAL, about 0.7 ms less
-- server time per 78 KB issue update (BENCHMARKS.md, "Issuing: the seal's
-- CMS room and the staged tail stored as it is").
ALTER TABLE staged_blobs ALTER COLUMN tail SET STORAGE EXTERNAL;

-- +goose Down
ALTER TABLE staged_blobs ALTER COLUMN tail SET STORAGE EXTENDED;
