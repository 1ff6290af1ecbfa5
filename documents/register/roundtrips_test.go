package register_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

// TestIssueRoundTrips counts what issuing a signed document to two
// recipients (an organisation of the deployment and an e-mail address)
// sends to PostgreSQL: five round trips, 21 statements. The transaction's
// begin carries every question asked before the number is taken (the
// document locked if the clerk may see it, its latest version and who
// made it, the recipients' organisations, the document's type, its
// organisation with its level, its registers and seal keys); then the
// number; while the seal is signed, the symbol clash check, the document
// marked issued and the deliveries; once it is, the blob's lock with the
// sealed version, the register entry and the audit entry (its details
// carry the clash's warnings); the commit. It was 24 round trips of one
// statement each (BENCHMARKS.md, "Round trips before signing and
// issuing"), then six. The e-mail queue, when configured, writes through
// the transaction itself while the seal is signed; the events go into the
// last batch when the publisher queues them, else one round trip more.
func TestIssueRoundTrips(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pool, c := testharness.TracedPool(t, w.db.Pool)
	db := &storage.DB{Pool: pool}
	w.svc.DB, w.svc.Docs.DB = db, db
	for i, want := range []struct{ trips, statements int }{{5, 21}, {5, 21}} {
		d := w.signedDocument("QĐ", "thuong")
		c.Reset()
		out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w), CopiesKept: "Lưu: VT"})
		if err != nil {
			t.Fatal(err)
		}
		if trips, statements := c.Counts(); trips != want.trips || statements != want.statements {
			t.Errorf("issue %d: %d round trips, %d statements, want %d and %d:\n%s", i, trips, statements, want.trips, want.statements, c)
		}
		if out.Number != i+1 || out.Version != 3 {
			t.Errorf("issue %d: %+v", i, out)
		}
		if n := w.count("SELECT count(*) FROM document_deliveries WHERE document_id = $1", d.ID); n != 2 {
			t.Errorf("issue %d: %d deliveries", i, n)
		}
		if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'document.issue' AND object = $1", "document:"+d.ID); n != 1 {
			t.Errorf("issue %d: %d audit entries", i, n)
		}
	}
	// Another organisation's clerk learns nothing: the transaction's begin,
	// and its rollback.
	d := w.signedDocument("QĐ", "thuong")
	c.Reset()
	if _, err := w.svc.Issue(ctx, w.otherClerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); !errors.Is(err, documents.ErrNotFound) {
		t.Errorf("another organisation's clerk: %v", err)
	}
	if trips, _ := c.Counts(); trips != 2 {
		t.Errorf("another organisation's clerk: %d round trips:\n%s", trips, c)
	}
}
