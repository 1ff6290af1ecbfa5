-- +goose Up
-- Events queued in a busy transaction (an approval) are told after it
-- commits (package notify, FanOut): the transaction writes only the event
-- with the people it tells in pending; the engine's fan-out turns pending
-- events into notifications and jobs in batches and clears pending in the
-- same transaction, so an event is told exactly once, even across a crash.
ALTER TABLE notify_events ADD COLUMN pending uuid[];
CREATE INDEX notify_events_pending ON notify_events (created_at) WHERE pending IS NOT NULL;
-- A fan-out names each notification it makes by its event and person
-- (notify.fanOutSQL: the id is derived from both), so the primary key is
-- the unique key that stops a repeated fan-out from telling anyone twice,
-- with no index more to maintain per notification.

-- +goose Down
DROP INDEX notify_events_pending;
ALTER TABLE notify_events DROP COLUMN pending;
