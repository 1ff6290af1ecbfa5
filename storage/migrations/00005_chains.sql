-- +goose Up
-- Approval chains (trình ký): templates per organisation, each document's
-- chain in flight with its stages, the inbox items that wait for people,
-- the history of actions, and the working calendar deadlines count in.

-- One row per year: weekends, public holidays, compensating days off and
-- working Saturdays, and the working hours, as an administrator sets them.
CREATE TABLE calendar_years (
    year       int PRIMARY KEY CHECK (year BETWEEN 1970 AND 9999),
    definition jsonb NOT NULL,
    updated_by uuid REFERENCES users (id), -- NULL: the operator, from the command line
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chain_templates (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name            text NOT NULL CHECK (name <> ''),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

-- A template changes by gaining a version; a chain in flight names the
-- version it started with, so a change never moves it.
CREATE TABLE chain_template_versions (
    template_id    uuid NOT NULL REFERENCES chain_templates (id),
    version        int NOT NULL CHECK (version >= 1),
    document_types text[] NOT NULL DEFAULT '{}', -- empty: every type
    unit_ids       uuid[] NOT NULL DEFAULT '{}', -- empty: every unit
    definition     jsonb NOT NULL,               -- stages, restart point, ad-hoc permissions
    created_by     uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template_id, version)
);

CREATE TABLE document_chains (
    document_id            uuid PRIMARY KEY REFERENCES documents (id),
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    template_id            uuid,
    template_version       int,
    drafter_id             uuid NOT NULL REFERENCES users (id),
    status                 text NOT NULL CHECK (status IN ('in_review', 'returned', 'approved', 'signed', 'withdrawn', 'rejected')),
    generation             int NOT NULL DEFAULT 1,       -- each new set of stages (a new submission) is one
    round                  int NOT NULL DEFAULT 1,       -- each pass through the stages is one
    restart_from           int NOT NULL DEFAULT 1,       -- stage position a resubmission restarts at
    allow_added_consultees boolean NOT NULL DEFAULT false,
    allow_added_signers    boolean NOT NULL DEFAULT false,
    version                int NOT NULL,                 -- the version under review or to be signed
    version_sha256         text NOT NULL,
    signatures             int NOT NULL DEFAULT 0,
    signing_by             uuid REFERENCES users (id),   -- a signature being made, until signing_until
    signing_until          timestamptz,
    submitted_at           timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (template_id, template_version) REFERENCES chain_template_versions (template_id, version)
);

CREATE TABLE chain_stages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id  uuid NOT NULL REFERENCES document_chains (document_id),
    generation   int NOT NULL,
    position     int NOT NULL CHECK (position >= 1),
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('review', 'consult', 'format-check', 'sign')),
    rule         text NOT NULL CHECK (rule IN ('all', 'any', 'k')),
    k            int NOT NULL DEFAULT 0,
    blocking     boolean NOT NULL,
    participants jsonb NOT NULL,              -- the people resolved at submission: [{user_id, role}]
    due_days     int,
    due_hours    int,
    added_by     uuid REFERENCES users (id),  -- NULL: from the template or the submission
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'active', 'done')),
    activated_at timestamptz,
    due_at       timestamptz,
    completed_at timestamptz,
    -- Deferred: inserting an ad-hoc stage shifts the positions after it.
    UNIQUE (document_id, generation, position) DEFERRABLE INITIALLY DEFERRED
);

-- What waits for one person about one document. The approval chain feeds
-- it now (source 'chain', stage_id set); incoming documents' handling
-- feeds the same table later with its own source, so every person has one
-- inbox.
CREATE TABLE inbox_items (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    user_id         uuid NOT NULL REFERENCES users (id),
    document_id     uuid NOT NULL REFERENCES documents (id),
    source          text NOT NULL DEFAULT 'chain',
    stage_id        uuid REFERENCES chain_stages (id),
    round           int NOT NULL DEFAULT 1,
    label           text NOT NULL,                -- the stage or task as shown
    task            text NOT NULL,                -- the expected action: approve, check, comment, sign, revise
    role            text NOT NULL DEFAULT '',     -- the role whoever holds it needs (kept when forwarded)
    turn_of         uuid REFERENCES users (id),   -- whose turn it first was, when forwarded to a deputy
    counts          boolean NOT NULL DEFAULT true, -- counts toward the stage's rule
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'forwarded', 'closed')),
    outcome         text NOT NULL DEFAULT '',
    since           timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz,
    done_at         timestamptz
);
CREATE INDEX inbox_open ON inbox_items (user_id, since DESC, id DESC) WHERE state = 'open';
CREATE INDEX inbox_handled ON inbox_items (user_id, done_at DESC, id DESC) WHERE state IN ('done', 'forwarded');
CREATE INDEX inbox_counts ON inbox_items (user_id, state, due_at);
CREATE INDEX inbox_document ON inbox_items (document_id, user_id);

-- Every action on a chain, in order: the document's history.
CREATE TABLE chain_actions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id     uuid NOT NULL REFERENCES documents (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    round           int NOT NULL,
    action          text NOT NULL,
    actor           uuid NOT NULL REFERENCES users (id),
    on_behalf_of    uuid REFERENCES users (id),   -- the participant a delegate or deputy acted for
    authority_form  text NOT NULL DEFAULT '',
    stage_id        uuid REFERENCES chain_stages (id),
    stage_name      text NOT NULL DEFAULT '',
    version         int,
    version_sha256  text,
    comment         text NOT NULL DEFAULT '',
    page            int CHECK (page >= 1),
    rect            float8[] CHECK (rect IS NULL OR cardinality(rect) = 4),
    to_user         uuid REFERENCES users (id),
    to_stage        text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chain_actions_document ON chain_actions (document_id, id);
-- +goose StatementBegin
CREATE FUNCTION forbid_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a chain''s history is append-only';
END $$;
-- +goose StatementEnd
CREATE TRIGGER chain_actions_append_only BEFORE UPDATE OR DELETE ON chain_actions
    FOR EACH ROW EXECUTE FUNCTION forbid_history_change();

-- An action repeated with the same Idempotency-Key answers as the first did.
CREATE TABLE chain_action_keys (
    user_id      uuid NOT NULL REFERENCES users (id),
    key          text NOT NULL,
    document_id  uuid NOT NULL REFERENCES documents (id),
    request_hash bytea NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX documents_status ON documents (organization_id, status, created_at DESC, id DESC);

-- +goose Down
DROP INDEX documents_status;
DROP TABLE chain_action_keys;
DROP TABLE chain_actions;
DROP FUNCTION forbid_history_change;
DROP TABLE inbox_items;
DROP TABLE chain_stages;
DROP TABLE document_chains;
DROP TABLE chain_template_versions;
DROP TABLE chain_templates;
DROP TABLE calendar_years;
