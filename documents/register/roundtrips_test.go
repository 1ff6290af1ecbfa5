package register_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// TestIssueRoundTrips counts what issuing a signed document to two
// recipients (an organisation of the deployment and an e-mail address)
// sends to PostgreSQL: five round trips, 23 statements. The transaction's
// begin carries every question asked before the number is taken (the
// document locked if the clerk may see it, with its generic plan, its latest version and who
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
	for i, want := range []struct{ trips, statements int }{{5, 23}, {5, 23}} {
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
	// An organisation that draws the verification QR code: its setting is
	// read with the begin, its public record goes with the last batch.
	// It was eight round trips (the setting, and the version and the
	// record each in a round trip of their own before the last batch).
	w.svc.PublicURL = "https://vanthu.example/"
	w.turnQROn(t)
	d := w.signedDocument("QĐ", "thuong")
	c.Reset()
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err != nil {
		t.Fatal(err)
	}
	if trips, statements := c.Counts(); trips != 5 || statements != 25 {
		t.Errorf("an issue with the QR code: %d round trips, %d statements, want 5 and 25:\n%s", trips, statements, c)
	}
	if n := w.count("SELECT count(*) FROM public_records WHERE document_id = $1", d.ID); n != 1 {
		t.Errorf("an issue with the QR code: %d public records", n)
	}
	w.svc.PublicURL = ""
	// Another organisation's clerk learns nothing: the transaction's begin,
	// and its rollback.
	d = w.signedDocument("QĐ", "thuong")
	c.Reset()
	if _, err := w.svc.Issue(ctx, w.otherClerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); !errors.Is(err, documents.ErrNotFound) {
		t.Errorf("another organisation's clerk: %v", err)
	}
	if trips, _ := c.Counts(); trips != 2 {
		t.Errorf("another organisation's clerk: %d round trips:\n%s", trips, c)
	}
}

// TestIssueRoundTripsWrittenAhead counts the round trips of an issue as
// serve makes it: on MinIO through the write-ahead of appended versions
// (storage/blob/staged), with an e-mail queue. Everything that does not
// depend on the sealed bytes goes while the seal is signed: the number
// before it; the clash check, the document marked issued and the
// deliveries in one batch, the e-mail job, and the job that moves the
// seal's update (it names the version sealed, not the sealed file). After
// the signature, one round trip: the version, the register entry, the
// audit entry, the staged update, the check of the version's number and
// the COMMIT in one batch. It was three (that batch, the move job's
// insert, the COMMIT) and seven in all.
func TestIssueRoundTripsWrittenAhead(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mc := testharness.MinIO(t)
	raw, err := s3.New(ctx, s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	pool, c := testharness.TracedPool(t, w.db.Pool)
	db := &storage.DB{Pool: pool}
	st := stagedBlobs(t, w.db, raw, true)
	w.svc.DB, w.svc.Docs.DB, w.svc.Docs.Blobs = db, db, st
	// The e-mail queue's insert, one statement in the transaction.
	mailed := 0
	w.svc.Mailer = register.DeliveryMailerFunc(func(ctx context.Context, tx pgx.Tx, id string) error {
		mailed++
		_, err := tx.Exec(ctx, "SELECT $1::uuid", id)
		return err
	})
	w.draftKey, w.draftSize = w.put(testpdf.Bytes(testpdf.Options{Text: "QUYET DINH ve viec ban hanh quy che"}))
	w.signedKey, w.signedSize = w.put(w.signedBytes)
	for i := range 2 {
		d := w.signedDocument("QĐ", "thuong")
		c.Reset()
		out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w), CopiesKept: "Lưu: VT"})
		if err != nil {
			t.Fatal(err)
		}
		// River asks PostgreSQL's version once, at its first insert.
		trips, _ := c.Counts()
		if trips -= c.WakeUps() + strings.Count(c.String(), "PGGetProductAndVersion"); trips != 6 {
			t.Errorf("issue %d: %d round trips besides River's wake-ups, want 6:\n%s", i, trips, c)
		}
		// Nothing after the batch that commits.
		lines := strings.Split(c.String(), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "  (batch) COMMIT") {
			t.Errorf("issue %d: the last statement is %q, want the COMMIT in the last batch:\n%s", i, last, c)
		}
		if n := strings.Count(c.String(), "(batch) COMMIT"); n != 1 {
			t.Errorf("issue %d: %d COMMITs:\n%s", i, n, c)
		}
		if out.Number != i+1 || mailed != i+1 {
			t.Errorf("issue %d: %+v, %d e-mails queued", i, out, mailed)
		}
		if n := stagedRows(t, w.db); n != i+1 {
			t.Errorf("issue %d: %d staged updates", i, n)
		}
		if n := w.count("SELECT count(*) FROM river_job WHERE kind = 'blob_move' AND args->>'onto' = $1", w.signedKey); n != i+1 {
			t.Errorf("issue %d: %d move jobs onto the signed version", i, n)
		}
		for _, q := range []string{
			"SELECT count(*) FROM document_deliveries WHERE document_id = $1",
			"SELECT count(*) FROM audit_log WHERE action = 'document.issue' AND object = 'document:' || $1",
			"SELECT count(*) FROM register_entries WHERE document_id = $1",
			"SELECT count(*) FROM document_versions WHERE document_id = $1 AND number = 3",
		} {
			want := 1
			if strings.Contains(q, "deliveries") {
				want = 2
			}
			if n := w.count(q, d.ID); n != want {
				t.Errorf("issue %d: %s: %d, want %d", i, q, n, want)
			}
		}
	}
	// A failure in the batch that commits (here the staged update's
	// insert) leaves nothing: no number taken, no delivery, no staged
	// update, no move job; the connection goes back clean and the same
	// number is the next issue's.
	if _, err := w.db.Pool.Exec(ctx, `CREATE FUNCTION refuse_staging() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'staging refused'; END $$;
		CREATE TRIGGER refuse_staging BEFORE INSERT ON staged_blobs FOR EACH ROW EXECUTE FUNCTION refuse_staging()`); err != nil {
		t.Fatal(err)
	}
	d := w.signedDocument("QĐ", "thuong")
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err == nil || !strings.Contains(err.Error(), "staging refused") {
		t.Fatalf("an issue whose last batch fails: %v", err)
	}
	for q, want := range map[string]int{
		"SELECT count(*) FROM document_deliveries WHERE document_id = $1":                             0,
		"SELECT count(*) FROM register_entries WHERE document_id = $1":                                0,
		"SELECT count(*) FROM document_versions WHERE document_id = $1":                               2,
		"SELECT count(*) FROM documents WHERE id = $1 AND status = 'signed' AND number IS NULL":       1,
		"SELECT count(*) FROM audit_log WHERE action = 'document.issue' AND object = 'document:'||$1": 0,
	} {
		if n := w.count(q, d.ID); n != want {
			t.Errorf("after a failed last batch: %s: %d, want %d", q, n, want)
		}
	}
	if n := stagedRows(t, w.db); n != 2 {
		t.Errorf("after a failed last batch: %d staged updates, want 2", n)
	}
	if n := w.count("SELECT count(*) FROM river_job WHERE kind = 'blob_move'"); n != 2 {
		t.Errorf("after a failed last batch: %d move jobs, want 2", n)
	}
	if _, err := w.db.Pool.Exec(ctx, "DROP TRIGGER refuse_staging ON staged_blobs"); err != nil {
		t.Fatal(err)
	}
	if out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err != nil || out.Number != 3 {
		t.Fatalf("the issue after the failure: %+v %v", out, err)
	}
	if idle := pool.Stat().IdleConns(); idle != pool.Stat().TotalConns() {
		t.Errorf("%d of %d connections back in the pool", idle, pool.Stat().TotalConns())
	}
	// The staged updates move once the mover runs.
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer st.Stop(context.Background())
	waitUnstaged(t, w.db)
}
