-- +goose Up
-- An organisation's rules for handling incoming documents. Decree 30 has
-- the văn thư present an incoming document to the leader, or, where the
-- organisation's rules allow it, send it straight to the unit that leads
-- its handling: clerk_sends_to_unit says whether they do. No row is the
-- default (present to a leader only).
CREATE TABLE handling_settings (
    organization_id     uuid PRIMARY KEY REFERENCES organizations (id),
    clerk_sends_to_unit boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          uuid REFERENCES users (id)
);

-- +goose Down
DROP TABLE handling_settings;
