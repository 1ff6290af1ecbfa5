-- +goose Up
-- The language a user chose for the pages (vi, en); NULL: not chosen, the
-- pages follow the browser's cookie or Vietnamese.
ALTER TABLE users ADD COLUMN language text CHECK (language IN ('vi', 'en'));

-- +goose Down
ALTER TABLE users DROP COLUMN language;
