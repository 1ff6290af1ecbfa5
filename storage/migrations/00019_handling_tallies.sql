-- +goose Up
-- On-time statistics read a year of an organisation's handling from
-- monthly tallies instead of scanning every part given in the year.
--
-- A tally row counts documents received (kind 'document', key the
-- organisation) or parts given (kind 'unit' or 'person', key the unit or
-- person; parts for information never count) in one month of Vietnam's
-- calendar, by their state as it stands: completed on time, completed
-- late, open without a deadline, open with one. Triggers on
-- document_handling and assignments insert one row per change, in the
-- change's own transaction, with the difference it makes (so concurrent
-- changes never wait for one another on a shared counter); statistics fold
-- a period's rows into one per key and month before reading them. What
-- depends on the moment the statistics are taken as of (a part completed
-- after it, an open deadline still ahead of it) is corrected from the
-- indexes below, which hold only those few rows.
CREATE TABLE handling_tallies (
    organization_id uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('document', 'unit', 'person')),
    key             uuid NOT NULL,
    month           date NOT NULL, -- the first day of the month, in Vietnam
    received        int NOT NULL,
    done_on_time    int NOT NULL,
    done_late       int NOT NULL,
    open_no_due     int NOT NULL,
    open_due        int NOT NULL
);
CREATE INDEX handling_tallies_period ON handling_tallies (organization_id, month);

-- One row's contribution (n = 1) or withdrawal (n = -1).
CREATE FUNCTION handling_tally(org uuid, kind text, key uuid, at timestamptz, due timestamptz, done timestamptz, n int)
RETURNS handling_tallies LANGUAGE sql IMMUTABLE AS $$
    SELECT org, kind, key, date_trunc('month', (at AT TIME ZONE 'UTC') + interval '7 hours')::date, n,
        CASE WHEN done IS NOT NULL AND (due IS NULL OR done <= due) THEN n ELSE 0 END,
        CASE WHEN done IS NOT NULL AND due IS NOT NULL AND done > due THEN n ELSE 0 END,
        CASE WHEN done IS NULL AND due IS NULL THEN n ELSE 0 END,
        CASE WHEN done IS NULL AND due IS NOT NULL THEN n ELSE 0 END
$$;

-- +goose StatementBegin
CREATE FUNCTION tally_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.organization_id, OLD.role, OLD.unit_id, OLD.user_id, OLD.assigned_at, OLD.due_at, OLD.completed_at)
        IS NOT DISTINCT FROM (NEW.organization_id, NEW.role, NEW.unit_id, NEW.user_id, NEW.assigned_at, NEW.due_at, NEW.completed_at) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.role <> 'inform' THEN
        INSERT INTO handling_tallies SELECT * FROM handling_tally(OLD.organization_id, CASE WHEN OLD.unit_id IS NULL THEN 'person' ELSE 'unit' END,
            coalesce(OLD.unit_id, OLD.user_id), OLD.assigned_at, OLD.due_at, OLD.completed_at, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.role <> 'inform' THEN
        INSERT INTO handling_tallies SELECT * FROM handling_tally(NEW.organization_id, CASE WHEN NEW.unit_id IS NULL THEN 'person' ELSE 'unit' END,
            coalesce(NEW.unit_id, NEW.user_id), NEW.assigned_at, NEW.due_at, NEW.completed_at, 1);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tally_document_handling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.organization_id, OLD.received_at, OLD.due_at, OLD.completed_at)
        IS NOT DISTINCT FROM (NEW.organization_id, NEW.received_at, NEW.due_at, NEW.completed_at) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO handling_tallies SELECT * FROM handling_tally(OLD.organization_id, 'document', OLD.organization_id,
            OLD.received_at, OLD.due_at, OLD.completed_at, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO handling_tallies SELECT * FROM handling_tally(NEW.organization_id, 'document', NEW.organization_id,
            NEW.received_at, NEW.due_at, NEW.completed_at, 1);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER assignments_tally AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION tally_assignment();
CREATE TRIGGER document_handling_tally AFTER INSERT OR UPDATE OR DELETE ON document_handling
    FOR EACH ROW EXECUTE FUNCTION tally_document_handling();

-- What exists already (storage.RebuildHandlingTallies does the same).
INSERT INTO handling_tallies
SELECT t.organization_id, t.kind, t.key, t.month, sum(t.received), sum(t.done_on_time), sum(t.done_late), sum(t.open_no_due), sum(t.open_due)
FROM (
    SELECT x.* FROM document_handling h,
        LATERAL handling_tally(h.organization_id, 'document', h.organization_id, h.received_at, h.due_at, h.completed_at, 1) x
    UNION ALL
    SELECT x.* FROM assignments a,
        LATERAL handling_tally(a.organization_id, CASE WHEN a.unit_id IS NULL THEN 'person' ELSE 'unit' END, coalesce(a.unit_id, a.user_id),
            a.assigned_at, a.due_at, a.completed_at, 1) x
    WHERE a.role <> 'inform'
) t
GROUP BY t.organization_id, t.kind, t.key, t.month;

-- The corrections for the moment statistics are taken as of: parts (and
-- documents) completed after it, and open ones whose deadline is still
-- ahead of it.
CREATE INDEX assignments_completed ON assignments (organization_id, completed_at) INCLUDE (assigned_at, due_at, unit_id, user_id)
    WHERE role <> 'inform' AND completed_at IS NOT NULL;
CREATE INDEX assignments_open_due ON assignments (organization_id, due_at) INCLUDE (assigned_at, unit_id, user_id)
    WHERE role <> 'inform' AND completed_at IS NULL;
CREATE INDEX document_handling_completed ON document_handling (organization_id, completed_at) INCLUDE (received_at, due_at)
    WHERE completed_at IS NOT NULL;
CREATE INDEX document_handling_open_due ON document_handling (organization_id, due_at) INCLUDE (received_at)
    WHERE completed_at IS NULL;

-- +goose Down
DROP INDEX document_handling_open_due;
DROP INDEX document_handling_completed;
DROP INDEX assignments_open_due;
DROP INDEX assignments_completed;
DROP TRIGGER document_handling_tally ON document_handling;
DROP TRIGGER assignments_tally ON assignments;
DROP FUNCTION tally_document_handling;
DROP FUNCTION tally_assignment;
DROP FUNCTION handling_tally;
DROP TABLE handling_tallies;
