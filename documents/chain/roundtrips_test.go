package chain_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

// traced reconnects the world's services through a pool that counts.
func (w *world) traced() *testharness.RoundTrips {
	w.t.Helper()
	pool, c := testharness.TracedPool(w.t, w.db.Pool)
	db := &storage.DB{Pool: pool}
	w.db, w.docs.DB, w.svc.DB = db, db, db
	return c
}

// TestApprovalRoundTrips: an approval that moves a document to its sign
// stage goes to PostgreSQL four times: the transaction's begin with the
// locked read (visibility checked in it), every write with the audit entry
// and the history read back for the answer (and the setting that lets the
// commit release the locks before its WAL flush), the commit, and the wait
// for the commit to be durable (storage.WaitDurable), which the commits of
// other actions share: nineteen statements (two of them let the
// document's read under the viewer's visibility use its generic plan,
// storage.queueGenericPlan). Before the early release it
// was three round trips and fifteen statements, and every commit held the
// audit log's append lock through its own WAL flush. It was fourteen round trips:
// a visibility read, the begin, the locked read, one per write (the turn
// ended, the history row, two stage updates, the signer's turn, the chain,
// the document's status, the audit entry), the history, the commit.
func TestApprovalRoundTrips(t *testing.T) {
	w := newWorld(t)
	w.inFlight(t, 3, []string{"reviewer"})
	c := w.traced()
	var docs []string
	rows, err := w.db.Pool.Query(w.ctx, "SELECT document_id::text FROM inbox_items WHERE state = 'open' ORDER BY document_id")
	if err != nil {
		t.Fatal(err)
	}
	docs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(docs) != 3 {
		t.Fatalf("%v %v", docs, err)
	}
	for i, id := range docs {
		c.Reset()
		req := chain.ActionRequest{Action: chain.ActionApprove}
		if i == 1 {
			req.Comment = "Đồng ý, trình ký."
		}
		v, err := w.svc.Act(w.ctx, w.p("reviewer"), id, req, "")
		if err != nil {
			t.Fatal(err)
		}
		if trips, statements := c.Counts(); trips != 4 || statements != 19 {
			t.Errorf("approval %d: %d round trips, %d statements, want 4 and 19:\n%s", i, trips, statements, c)
		}
		if v.Status != documents.StatusApproved || v.CurrentStage != "Ký" || len(v.Stages) != 2 || len(v.Stages[1].Turns) != 1 ||
			v.Stages[1].Turns[0].ID == "" || v.Stages[1].Turns[0].UserID != w.id("signer") || v.Stages[0].Turns[0].State != "done" {
			t.Fatalf("approval %d: %+v", i, v)
		}
		if want := i == 1; want != (len(v.Comments) == 1) || (want && (v.Comments[0].Actor != "Ông reviewer" || v.Comments[0].ID == 0)) {
			t.Errorf("approval %d: comments %+v", i, v.Comments)
		}
		// What the answer says is what was written.
		var items, actions, pending, logged int
		var status string
		if err := w.db.Pool.QueryRow(w.ctx, `SELECT
			(SELECT count(*) FROM inbox_items WHERE document_id = $1 AND id = $2 AND user_id = $3 AND state = 'open'),
			(SELECT count(*) FROM chain_actions WHERE document_id = $1 AND action = 'approve'),
			(SELECT count(*) FROM audit_pending),
			(SELECT count(*) FROM audit_log WHERE object = 'document:' || $1 AND action = 'chain.approve'),
			(SELECT status FROM documents WHERE id = $1)`, id, v.Stages[1].Turns[0].ID, w.id("signer")).
			Scan(&items, &actions, &pending, &logged, &status); err != nil {
			t.Fatal(err)
		}
		if items != 1 || actions != 1 || pending != 0 || logged != 1 || status != documents.StatusApproved {
			t.Errorf("approval %d: signer's turn %d, history %d, pending audit %d, logged %d, status %s", i, items, actions, pending, logged, status)
		}
	}
	// Someone who may not see the document learns nothing from the locked
	// read; the transaction is rolled back.
	c.Reset()
	if _, err := w.svc.Act(w.ctx, w.p("outsider"), docs[0], chain.ActionRequest{Action: chain.ActionApprove}, ""); !errors.Is(err, documents.ErrNotFound) {
		t.Errorf("outsider: %v", err)
	}
	if trips, _ := c.Counts(); trips != 2 {
		t.Errorf("outsider: %d round trips:\n%s", trips, c)
	}
}

// TestApprovalRoundTripsWithPublisher: with the service's publisher (the
// notifications engine, as serve wires it; every person chose e-mail and
// the organisation has a webhook endpoint) the approval's event goes in
// the approval's one batch of writes as one insert (the event, with the
// people it tells pending): one statement more, no round trip more, and no
// read or job in the approval's transaction. Four round trips, as without
// a publisher (the fourth waits for the commit to be durable). The engine's fan-out then tells the drafter and the signer
// and queues the two e-mails and the webhook, once. It was four round
// trips and 17 statements (the event, its notifications and the reads of
// who is mailed and which endpoints hear it in one statement, then River's
// insert of the jobs), nine before that.
func TestApprovalRoundTripsWithPublisher(t *testing.T) {
	w := newWorld(t)
	w.inFlight(t, 4, []string{"reviewer"})
	c := w.traced()
	o := w.notifying(t, false) // on the traced pool; its workers idle, so only the approval is counted
	docs := w.openDocuments(t)
	// The first approval warms the pool and is not counted.
	w.must("reviewer", docs[0], chain.ActionRequest{Action: chain.ActionApprove})
	if _, err := o.engine.FanOut(w.ctx); err != nil {
		t.Fatal(err)
	}
	for i, id := range docs[1:] {
		c.Reset()
		v, err := w.svc.Act(w.ctx, w.p("reviewer"), id, chain.ActionRequest{Action: chain.ActionApprove}, "")
		if err != nil {
			t.Fatal(err)
		}
		trips, statements := c.Counts()
		if trips != 4 || statements != 20 {
			t.Errorf("approval %d: %d round trips, %d statements; want 4 and 20:\n%s", i, trips, statements, c)
		}
		if v.Status != documents.StatusApproved {
			t.Fatalf("approval %d: %+v", i, v)
		}
		if told, err := o.engine.FanOut(w.ctx); err != nil || told != 1 {
			t.Fatalf("fan-out after approval %d: %d events told (%v), want 1", i, told, err)
		}
		var evs, told, jobs int
		if err := w.db.Pool.QueryRow(w.ctx, `SELECT
			(SELECT count(*) FROM notify_events WHERE document_id = $1 AND kind = 'document.approved'),
			(SELECT count(*) FROM notifications WHERE document_id = $1 AND user_id IN ($2, $3)),
			(SELECT count(*) FROM river_job j JOIN notify_events e ON e.id = (j.args->>'event_id')::uuid WHERE e.document_id = $1)`,
			id, w.id("drafter"), w.id("signer")).Scan(&evs, &told, &jobs); err != nil {
			t.Fatal(err)
		}
		if evs != 1 || told != 2 || jobs != 3 {
			t.Errorf("approval %d: %d events, %d notifications, %d jobs; want 1, 2 (drafter, signer), 3 (two e-mails, a webhook)", i, evs, told, jobs)
		}
	}
}
