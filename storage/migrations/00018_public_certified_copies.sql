-- +goose Up
-- Certified copies of citizens' originals are public records too: public
-- verification finds one by its SHA-256 and by the code of the QR URL drawn
-- beside its statement. A certified copy is not a document of the system
-- (certified_copies, not documents), so a public record points at either
-- a document version or a certified copy, never both.
ALTER TABLE public_records
    ALTER COLUMN document_id DROP NOT NULL,
    ALTER COLUMN version DROP NOT NULL,
    ADD COLUMN certified_copy_id uuid UNIQUE REFERENCES certified_copies (id),
    ADD CONSTRAINT public_records_one_subject CHECK (
        (document_id IS NOT NULL AND version IS NOT NULL AND certified_copy_id IS NULL)
        OR (document_id IS NULL AND version IS NULL AND certified_copy_id IS NOT NULL AND kind = 'certified-copy'));

-- Copies certified before this migration (their files carry no QR code;
-- they are found by their hash, and by this code if it is ever printed).
INSERT INTO public_records (sha256, code, kind, certified_copy_id, organization_id, recorded_at)
SELECT cc.blob_key, public_record_code(), 'certified-copy', cc.id, c.organization_id, cc.created_at
FROM certified_copies cc
JOIN certifications c ON c.id = cc.certification_id
ON CONFLICT (sha256) DO NOTHING;

-- Expired throttle windows are pruned by their start, oldest first.
CREATE INDEX public_verify_throttle_window ON public_verify_throttle (window_start);

-- +goose Down
DROP INDEX public_verify_throttle_window;
DELETE FROM public_records WHERE certified_copy_id IS NOT NULL;
ALTER TABLE public_records
    DROP CONSTRAINT public_records_one_subject,
    DROP COLUMN certified_copy_id,
    ALTER COLUMN document_id SET NOT NULL,
    ALTER COLUMN version SET NOT NULL;
