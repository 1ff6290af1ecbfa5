-- +goose Up
-- Thu hồi, thay thế, đính chính: an issued document may be recalled (frozen,
-- with the reason), and a new document may name the issued one it replaces
-- (a content error) or corrects (a form error, by a công văn). "Replaced by"
-- and "corrected by" are read from the newer document once it is issued.
ALTER TABLE documents
    ADD COLUMN recalled_at timestamptz,
    ADD COLUMN recall_reason text NOT NULL DEFAULT '' CHECK (length(recall_reason) <= 2000),
    ADD COLUMN replaces uuid REFERENCES documents (id),
    ADD COLUMN corrects uuid REFERENCES documents (id),
    ADD CONSTRAINT documents_replaces_or_corrects CHECK (replaces IS NULL OR corrects IS NULL),
    ADD CONSTRAINT documents_not_itself CHECK (replaces <> id AND corrects <> id);
CREATE INDEX documents_replaces ON documents (replaces) WHERE replaces IS NOT NULL;
CREATE INDEX documents_corrects ON documents (corrects) WHERE corrects IS NOT NULL;

-- The clerk's queue of documents awaiting issue.
CREATE INDEX documents_awaiting_issue ON documents (organization_id) WHERE status = 'signed';

-- +goose Down
DROP INDEX documents_awaiting_issue;
DROP INDEX documents_corrects;
DROP INDEX documents_replaces;
ALTER TABLE documents
    DROP CONSTRAINT documents_not_itself,
    DROP CONSTRAINT documents_replaces_or_corrects,
    DROP COLUMN corrects,
    DROP COLUMN replaces,
    DROP COLUMN recall_reason,
    DROP COLUMN recalled_at;
