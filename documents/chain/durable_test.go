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

// TestApprovalWAL: what an approval's own transaction writes to the WAL,
// found by its transaction id (pg_walinspect), counted: 39 records and
// about 4.2 kB (its seven row locks, two HOT and two other updates, four
// inserts, twenty index entries, the search index's pending list, the
// turn's end, the commit), with exactly one commit. On a durable cluster
// every byte of it is flushed before the approval is answered; the commit
// no longer waits for that flush under the audit log's append lock
// (TestApprovalAnswersOnceDurable). Bounds, not exact figures, so that a
// page split does not fail it; more is a regression to explain.
func TestApprovalWAL(t *testing.T) {
	w := newWorld(t)
	if _, err := w.db.Pool.Exec(w.ctx, "CREATE EXTENSION IF NOT EXISTS pg_walinspect"); err != nil {
		t.Fatalf("pg_walinspect (contrib of the PostgreSQL server package): %v", err)
	}
	w.inFlight(t, 4, []string{"reviewer"})
	docs := w.openDocuments(t)
	w.must("reviewer", docs[0], chain.ActionRequest{Action: chain.ActionApprove}) // warms the catalogue caches
	for i, id := range docs[1:] {
		var from string
		if err := w.db.Pool.QueryRow(w.ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&from); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Act(w.ctx, w.p("reviewer"), id, chain.ActionRequest{Action: chain.ActionApprove}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Pool.Exec(w.ctx, "SELECT pg_switch_wal()"); err != nil { // flushes, so that the records can be read
			t.Fatal(err)
		}
		rows, err := w.db.Pool.Query(w.ctx, `SELECT r.resource_manager || '/' || r.record_type, count(*), sum(r.record_length)
			FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn()) r
			WHERE r.xid::text = (SELECT xmin::text FROM chain_actions WHERE document_id = $2 AND action = 'approve')
			GROUP BY 1 ORDER BY 1`, from, id)
		if err != nil {
			t.Fatal(err)
		}
		var records, bytes, locks, commits int
		for rows.Next() {
			var kind string
			var n, b int
			if err := rows.Scan(&kind, &n, &b); err != nil {
				t.Fatal(err)
			}
			records, bytes = records+n, bytes+b
			switch kind {
			case "Heap/LOCK":
				locks = n
			case "Transaction/COMMIT":
				commits = n
			}
			t.Logf("approval %d: %s %d records, %d bytes", i, kind, n, b)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if records > 39 || bytes > 4400 || locks > 7 || commits != 1 {
			t.Errorf("approval %d: %d WAL records (at most 39), %d bytes (at most 4,400), %d row locks (at most 7), %d commits (1)",
				i, records, bytes, locks, commits)
		}
	}
}
