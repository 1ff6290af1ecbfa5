-- +goose Up
-- Notifications, e-mail, webhooks and reminders (package notify). The jobs
-- themselves live in River's tables (river_job and the rest), which
-- storage.Migrate brings up to date after these migrations.

-- One event as published in the transaction that caused it: what webhooks
-- carry and what a notification e-mail describes.
CREATE TABLE notify_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text NOT NULL,
    organization_id uuid REFERENCES organizations (id),
    document_id     uuid REFERENCES documents (id),
    actor_id        uuid REFERENCES users (id),
    summary         text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- In-app notifications: one row per user told.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id),
    event_id    uuid REFERENCES notify_events (id),
    kind        text NOT NULL,
    document_id uuid REFERENCES documents (id),
    summary     text NOT NULL DEFAULT '',
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_keyset ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Each user's channels: in-app always; e-mail to the address given here
-- when enabled.
CREATE TABLE notification_preferences (
    user_id    uuid PRIMARY KEY REFERENCES users (id),
    email      text NOT NULL DEFAULT '',
    email_on   boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT email_on OR email <> '')
);

-- Webhook endpoints of an organisation. The secret signs each delivery,
-- so it is kept as it is (it authenticates us to the receiver, not the
-- receiver to us); it is shown once, at creation, and never logged.
CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    url             text NOT NULL CHECK (url ~ '^https?://'),
    secret          bytea NOT NULL,
    allow_private   boolean NOT NULL DEFAULT false,
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id) WHERE deleted_at IS NULL;

-- Every attempt to deliver an event to an endpoint.
CREATE TABLE webhook_deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
    event_id    uuid NOT NULL REFERENCES notify_events (id),
    attempt     int NOT NULL,
    status_code int NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    succeeded   boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);
-- At most one successful delivery of an event to an endpoint.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id) WHERE succeeded;

-- E-mail delivery of issued documents to outside addresses: when the mail
-- went out, or why it has not yet.
ALTER TABLE document_deliveries
    ADD COLUMN mailed_at  timestamptz,
    ADD COLUMN mail_error text NOT NULL DEFAULT '';

-- Reminders sent: one per item, kind and working day.
CREATE TABLE reminders_sent (
    item_key text NOT NULL,
    day      date NOT NULL,
    kind     text NOT NULL,
    user_id  uuid NOT NULL REFERENCES users (id),
    sent_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_key, day, user_id)
);

-- +goose Down
DROP TABLE reminders_sent;
ALTER TABLE document_deliveries DROP COLUMN mail_error, DROP COLUMN mailed_at;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE notification_preferences;
DROP TABLE notifications;
DROP TABLE notify_events;
