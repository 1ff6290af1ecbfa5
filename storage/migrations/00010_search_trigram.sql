-- +goose Up
-- Search matches each word anywhere in the folded subject and number
-- (search_text LIKE '%word%'), which no b-tree serves: a trigram index does.
-- pg_trgm is a trusted extension, so a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX documents_search_trgm ON documents USING gin (search_text gin_trgm_ops);

-- +goose Down
DROP INDEX documents_search_trgm;
