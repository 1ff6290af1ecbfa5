-- +goose Up
-- Handling of incoming documents (xử lý văn bản đến) after registration:
-- which documents are in handling, the assignment tree (lead, coordinating
-- and informed units or people, a unit head's handler under a unit's
-- assignment) with deadlines, the history of handling, and the inbox items
-- that show it beside the approval chains' turns.

-- A document of an organisation in handling. Registration (reception)
-- inserts the row; assigning, progress and completion move it.
CREATE TABLE document_handling (
    document_id       uuid PRIMARY KEY REFERENCES documents (id),
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    status            text NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'presented', 'assigned', 'completed')),
    received_at       timestamptz NOT NULL,
    direction         text NOT NULL DEFAULT '' CHECK (length(direction) <= 2000), -- ý kiến chỉ đạo
    assigned_by       uuid REFERENCES users (id),
    assigned_at       timestamptz,
    due_at            timestamptz,             -- the lead's deadline, the document's
    completed_at      timestamptz,
    completed_by      uuid REFERENCES users (id),
    reply_document_id uuid REFERENCES documents (id)
);
-- Statistics read a period's documents from the index alone.
CREATE INDEX document_handling_received ON document_handling (organization_id, received_at) INCLUDE (due_at, completed_at);

CREATE TABLE assignments (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq               bigint GENERATED ALWAYS AS IDENTITY, -- the order given
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    document_id       uuid NOT NULL REFERENCES document_handling (document_id),
    parent_id         uuid REFERENCES assignments (id), -- the unit's assignment a handler works under
    unit_id           uuid,
    user_id           uuid REFERENCES users (id),
    role              text NOT NULL CHECK (role IN ('lead', 'coordinate', 'inform')),
    state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'closed')),
    assigned_by       uuid NOT NULL REFERENCES users (id),
    assigned_at       timestamptz NOT NULL,
    due_at            timestamptz,
    completed_at      timestamptz,
    completed_by      uuid REFERENCES users (id),
    note              text NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    reply_document_id uuid REFERENCES documents (id),
    CHECK ((unit_id IS NULL) <> (user_id IS NULL)),
    CHECK ((state = 'open') = (completed_at IS NULL)),
    FOREIGN KEY (organization_id, unit_id) REFERENCES units (organization_id, id)
);
-- Exactly one lead per document; one handler per unit's assignment.
CREATE UNIQUE INDEX assignments_one_lead ON assignments (document_id) WHERE role = 'lead' AND parent_id IS NULL;
CREATE UNIQUE INDEX assignments_one_handler ON assignments (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX assignments_document ON assignments (document_id, seq);
-- The reminders' question: what is open and due by a day.
CREATE INDEX assignments_due ON assignments (due_at) WHERE state = 'open' AND role <> 'inform';
-- Statistics for a period: an organisation's assignments by the time they
-- were given, with what the counts read, so a year is an index-only scan.
CREATE INDEX assignments_period ON assignments (organization_id, assigned_at) INCLUDE (unit_id, user_id, due_at, completed_at)
    WHERE role <> 'inform';

-- Every step of handling, in order: presenting, assigning, progress, completion.
CREATE TABLE handling_actions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id     uuid NOT NULL REFERENCES document_handling (document_id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    assignment_id   uuid REFERENCES assignments (id),
    action          text NOT NULL CHECK (action IN ('present', 'assign', 'progress', 'complete')),
    actor           uuid NOT NULL REFERENCES users (id),
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    at              timestamptz NOT NULL
);
CREATE INDEX handling_actions_document ON handling_actions (document_id, id);

-- The inbox shows handling beside the chains: an item names the
-- assignment it stands for, and what is only for information waits in its
-- own state (nhận để biết) so it never counts as work.
ALTER TABLE inbox_items ADD COLUMN assignment_id uuid REFERENCES assignments (id);
ALTER TABLE inbox_items DROP CONSTRAINT inbox_items_state_check;
ALTER TABLE inbox_items ADD CONSTRAINT inbox_items_state_check CHECK (state IN ('open', 'done', 'forwarded', 'closed', 'info'));
CREATE INDEX inbox_assignment ON inbox_items (assignment_id) WHERE assignment_id IS NOT NULL;
CREATE INDEX inbox_info ON inbox_items (user_id, since DESC, id DESC) WHERE state = 'info';
-- Overdue and due-soon views read a person's open items by deadline.
CREATE INDEX inbox_open_due ON inbox_items (user_id, due_at) WHERE state = 'open';

-- Outgoing statistics read an organisation's issued documents by period.
CREATE INDEX documents_issued ON documents (organization_id, issued_at) WHERE issued_at IS NOT NULL;

-- +goose Down
DROP INDEX documents_issued;
DROP INDEX inbox_open_due;
DROP INDEX inbox_info;
DROP INDEX inbox_assignment;
DELETE FROM inbox_items WHERE assignment_id IS NOT NULL;
ALTER TABLE inbox_items DROP CONSTRAINT inbox_items_state_check;
ALTER TABLE inbox_items ADD CONSTRAINT inbox_items_state_check CHECK (state IN ('open', 'done', 'forwarded', 'closed'));
ALTER TABLE inbox_items DROP COLUMN assignment_id;
DROP TABLE handling_actions;
DROP TABLE assignments;
DROP TABLE document_handling;
