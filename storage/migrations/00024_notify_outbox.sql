-- +goose Up
-- Events queued in a busy transaction (an approval) are told after it
-- commits (package notify, FanOut): the transaction writes only the event
-- with the people it tells in pending; the engine's fan-out turns pending
-- events into notifications and jobs in batches and clears pending in the
-- same transaction, so an event is told exactly once, even across a crash.
ALTER TABLE notify_events ADD COLUMN pending uuid[];
CREATE INDEX notify_events_pending ON notify_events (created_at) WHERE pending IS NOT NULL;
-- One notification per event and person: a fan-out retried after a crash
-- cannot tell anyone twice.
CREATE UNIQUE INDEX notifications_once ON notifications (event_id, user_id);

-- +goose Down
DROP INDEX notifications_once;
DROP INDEX notify_events_pending;
ALTER TABLE notify_events DROP COLUMN pending;
