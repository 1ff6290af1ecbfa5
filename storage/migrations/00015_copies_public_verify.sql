-- +goose Up
-- Copies of the organisation's documents (SAO Y, TRÍCH SAO, SAO LỤC) and
-- the index of every file this deployment issued, copied or certified,
-- which public verification answers from.

-- A copy is a document of type SY, TrS or SL, numbered in the copies
-- register like any issued document (register_entries); this row says what
-- it copies: a document of the system (its version), or a paper original
-- (scanned) described in words.
CREATE TABLE document_copies (
    document_id      uuid PRIMARY KEY REFERENCES documents (id),
    form             text NOT NULL CHECK (form IN ('SY', 'TrS', 'SL')),
    original_id      uuid REFERENCES documents (id),
    original_version int,
    pages            int[] NOT NULL DEFAULT '{}', -- TRÍCH SAO: the original's pages, in the copy's order
    original_text    text NOT NULL DEFAULT '' CHECK (length(original_text) <= 500), -- a paper original: its name, number, date
    FOREIGN KEY (original_id, original_version) REFERENCES document_versions (document_id, number),
    CHECK ((original_id IS NULL) = (original_version IS NULL)),
    CHECK (original_id IS NOT NULL OR original_text <> '')
);
CREATE INDEX document_copies_original ON document_copies (original_id) WHERE original_id IS NOT NULL;

-- Every file issued, copied or certified here, by the SHA-256 of its exact
-- bytes, with the unguessable code of its QR verification URL (/v/{code}).
-- What the public answer shows is read from the documents and registers at
-- the time of asking, so a document classified later is not answered.
CREATE TABLE public_records (
    sha256          text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    code            text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]{22,64}$'),
    kind            text NOT NULL CHECK (kind IN ('issued', 'copy', 'certified-copy')),
    document_id     uuid NOT NULL REFERENCES documents (id),
    version         int NOT NULL,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, number)
);
CREATE INDEX public_records_document ON public_records (document_id);

-- A random code of 128 bits, URL-safe base64 without padding (22
-- characters), as Go's publicverify.NewCode makes them.
-- +goose StatementBegin
CREATE FUNCTION public_record_code() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT rtrim(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$$;
-- +goose StatementEnd

-- Every register entry of an issued document (its sealed version), a copy
-- or a certified copy is recorded when it is written, whoever writes it;
-- a caller that drew the code into the file records it first
-- (publicverify.Record) and this keeps that one.
-- +goose StatementBegin
CREATE FUNCTION record_public_file() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    SELECT CASE r.kind WHEN 'outgoing' THEN 'issued' WHEN 'copies' THEN 'copy' WHEN 'certified-copies' THEN 'certified-copy' END
    INTO k FROM registers r WHERE r.id = NEW.register_id;
    IF k IS NULL THEN
        RETURN NEW;
    END IF;
    INSERT INTO public_records (sha256, code, kind, document_id, version, organization_id)
    SELECT v.blob_key, public_record_code(), k, v.document_id, v.number, NEW.organization_id
    FROM document_versions v WHERE v.document_id = NEW.document_id AND v.number = NEW.version
    ON CONFLICT (sha256) DO NOTHING;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER register_entries_public_record AFTER INSERT ON register_entries
    FOR EACH ROW EXECUTE FUNCTION record_public_file();

-- What was issued before this migration.
INSERT INTO public_records (sha256, code, kind, document_id, version, organization_id, recorded_at)
SELECT v.blob_key, public_record_code(),
    CASE r.kind WHEN 'copies' THEN 'copy' WHEN 'certified-copies' THEN 'certified-copy' ELSE 'issued' END,
    v.document_id, v.number, e.organization_id, e.issued_at
FROM register_entries e
JOIN registers r ON r.id = e.register_id
JOIN document_versions v ON v.document_id = e.document_id AND v.number = e.version
WHERE r.kind IN ('outgoing', 'copies', 'certified-copies')
ON CONFLICT (sha256) DO NOTHING;

-- Public verification requests per client address, in fixed windows.
CREATE TABLE public_verify_throttle (
    subject      text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    requests     int NOT NULL
);

-- +goose Down
DROP TABLE public_verify_throttle;
DROP TRIGGER register_entries_public_record ON register_entries;
DROP FUNCTION record_public_file;
DROP TABLE public_records;
DROP FUNCTION public_record_code;
DROP TABLE document_copies;
