package register

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/documents"
)

// queueVersionIs queues, in a batch that commits, the check that the
// version it inserts is numbered v.Number (the next after the latest read
// under the document's lock): a version numbered otherwise divides by
// zero, and PostgreSQL skips the rest of the batch, its COMMIT with it.
// Without a commit in the batch, the number it returns is checked after.
func queueVersionIs(b *pgx.Batch, v documents.Version) {
	b.Queue(`SELECT 1 / count(*)::int FROM document_versions WHERE document_id = $1 AND number = $2 AND blob_key = $3`,
		v.DocumentID, v.Number, v.SHA256)
}

// isVersionMismatch is queueVersionIs's refusal.
func isVersionMismatch(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22012" // division_by_zero
}
