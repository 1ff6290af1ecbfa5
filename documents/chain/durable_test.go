package chain_test

import (
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/storage"
)

// TestApprovalAnswersOnceDurable: an approval's commit releases its locks
// (the document's, the audit log's append lock) without waiting for its
// WAL flush, but Act answers only once the commit is flushed. The world's
// sessions commit synchronously here, as a production server's do (the
// test cluster's default is off); the approval's commit record, found by
// its transaction id (pg_walinspect), must be in the WAL flushed when Act
// returned. Without storage.WaitDurable the
// WAL writer flushes it only up to 200 ms later.
func TestApprovalAnswersOnceDurable(t *testing.T) {
	w := newWorld(t)
	sep := "?"
	if strings.Contains(w.url, "?") {
		sep = "&"
	}
	db, err := storage.Open(w.ctx, w.url+sep+"synchronous_commit=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	w.db, w.docs.DB, w.svc.DB = db, db, db
	if _, err := db.Pool.Exec(w.ctx, "CREATE EXTENSION IF NOT EXISTS pg_walinspect"); err != nil {
		t.Fatalf("pg_walinspect (contrib of the PostgreSQL server package): %v", err)
	}
	w.inFlight(t, 3, []string{"reviewer"})
	for i, id := range w.openDocuments(t) {
		var from string
		if err := db.Pool.QueryRow(w.ctx, "SELECT pg_current_wal_flush_lsn()::text").Scan(&from); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Act(w.ctx, w.p("reviewer"), id, chain.ActionRequest{Action: chain.ActionApprove}, ""); err != nil {
			t.Fatal(err)
		}
		var flushed string
		if err := db.Pool.QueryRow(w.ctx, "SELECT pg_current_wal_flush_lsn()::text").Scan(&flushed); err != nil {
			t.Fatal(err)
		}
		// pg_walinspect reads no further than the flushed WAL: the commit
		// record is found only if it was flushed when Act returned.
		var commits int
		if err := db.Pool.QueryRow(w.ctx, `SELECT count(*) FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn) r
			WHERE r.resource_manager = 'Transaction' AND r.record_type = 'COMMIT'
				AND r.xid::text = (SELECT xmin::text FROM chain_actions WHERE document_id = $3 AND action = 'approve')`,
			from, flushed, id).Scan(&commits); err != nil {
			t.Fatal(err)
		}
		if commits != 1 {
			t.Errorf("approval %d: %d commit records in the WAL flushed when Act returned (%s to %s), want 1", i, commits, from, flushed)
		}
	}
}
