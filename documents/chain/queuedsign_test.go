package chain_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// beginQueued begins p's signing turn as the signing step does with a
// chain that queues its reads and writes: the transaction's first batch
// locks the document if p may see it, reads its latest version and the
// chain's state (QueueSignTurn); the turn's reservation is queued into
// the batch returned.
func (w *world) beginQueued(p documents.Principal, docID string) (pgx.Tx, documents.SignTurn, *pgx.Batch, error) {
	var doc documents.Document
	var latest storage.Version
	var noDocument, noLatest error
	var begin documents.SignTurnRead
	tx, err := storage.BeginBatch(w.ctx, w.db.Pool, func(b *pgx.Batch) {
		storage.QueueLockVisibleDocument(b, docID, p.Viewer(), &doc, &noDocument)
		storage.QueueVersion(b, docID, 0, &latest, &noLatest)
		begin = w.svc.QueueSignTurn(b, docID)
	})
	if err != nil {
		return nil, documents.SignTurn{}, nil, err
	}
	if noDocument != nil {
		tx.Rollback(w.ctx)
		return nil, documents.SignTurn{}, nil, noDocument
	}
	reserved := &pgx.Batch{}
	turn, err := begin(w.ctx, tx, p, doc, latest, noLatest, reserved)
	if err != nil {
		tx.Rollback(w.ctx)
		return nil, documents.SignTurn{}, nil, err
	}
	return tx, turn, reserved, nil
}

// signQueued makes who's signature as the signing step does with a chain
// that queues its reads and writes: beginQueued, then one batch with the
// reservation, the new version, QueueFinishSign and the commit. claimed
// is the SHA-256 the finish is told of ("": the version's own).
func (w *world) signQueued(who, docID, claimed string) error {
	p := w.p(who)
	tx, turn, b, err := w.beginQueued(p, docID)
	if err != nil {
		return err
	}
	defer tx.Rollback(w.ctx)
	sum := sha256.Sum256([]byte("signed " + docID + " by " + who))
	v := storage.Version{DocumentID: docID, Number: turn.Version + 1, SHA256: hex.EncodeToString(sum[:]), Size: 1000,
		FileName: "signed.pdf", Signed: true, CreatedBy: p.ID}
	if claimed == "" {
		claimed = v.SHA256
	}
	storage.QueueInsertNumberedVersion(b, v)
	after, err := w.svc.QueueFinishSign(w.ctx, b, p, turn, v.Number, claimed, "")
	if err == nil && after != nil {
		// Published once the writes were sent, before the commit.
		w.publishedAfter++
		if err := storage.SendBatch(w.ctx, tx, b); err != nil {
			return err
		}
		if err := after(w.ctx, tx); err != nil {
			return err
		}
		b = &pgx.Batch{}
	}
	if errors.Is(err, documents.ErrFinishNotQueued) {
		// As the signing step does: what is queued is sent, then
		// FinishSign reads the chain again.
		w.finishedUnqueued++
		if err := storage.SendBatch(w.ctx, tx, b); err != nil {
			return err
		}
		b = &pgx.Batch{}
		err = w.svc.FinishSign(w.ctx, tx, p, turn, v.Number, claimed, "")
	}
	if err != nil {
		return err
	}
	return storage.CommitBatch(w.ctx, tx, b)
}

// TestQueueFinishSign: the signing turn begun from the transaction's
// first batch with its reservation queued (QueueSignTurn) and finished in the batch that commits, from what was
// read at its begin, leaves the chain as FinishSign does
// (the document signed, the signer's turn handled, the signature in the
// history); a reservation committed alone holds another signer back; a
// batch whose version is not the one the finish names commits
// nothing; an announcement published after the writes is left for
// after them; a turn BeginSign did not give is not queued (FinishSign
// then).
func TestQueueFinishSign(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusApproved)

	if err := w.signQueued("signer", d.ID, "0000000000000000000000000000000000000000000000000000000000000000"); err == nil {
		t.Fatal("a finish naming another version committed")
	}
	if s := w.status(d.ID); s != documents.StatusApproved {
		t.Fatalf("status %s after a failed batch", s)
	}
	if _, err := storage.GetVersion(w.ctx, w.db.Pool, d.ID, 2); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a version left by a failed batch: %v", err)
	}

	// A reservation queued and committed alone (as a desk-token prepare
	// does) holds others back.
	tx, _, reserved, err := w.beginQueued(w.p("signer"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reserved.Len() != 1 {
		t.Fatalf("%d statements queued for the reservation, want 1", reserved.Len())
	}
	if err := storage.CommitBatch(w.ctx, tx, reserved); err != nil {
		t.Fatal(err)
	}
	if err := w.sign("deputy", d.ID, "KT."); !isConflict(err) {
		t.Fatalf("a second signature begun meanwhile: %v", err)
	}

	if err := w.signQueued("signer", d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if s := w.status(d.ID); s != documents.StatusSigned {
		t.Fatalf("status %s after the last signature", s)
	}
	hist, _ := w.svc.History(w.ctx, w.p("drafter"), d.ID)
	last := hist[len(hist)-1]
	if last.Action != "sign" || last.Version != 2 || last.ActorID != w.id("signer") {
		t.Fatalf("last entry %+v", last)
	}
	if err := w.signQueued("signer", d.ID, ""); !isConflict(err) {
		t.Fatalf("signed twice: %v", err)
	}

	if w.finishedUnqueued != 0 {
		t.Errorf("%d finishes not queued", w.finishedUnqueued)
	}
	// A publisher that is no events.Queuer publishes after the writes:
	// the finish is queued, its publishing left for after them.
	h := &heard{}
	w.svc.Events = h
	d2 := w.reach(documents.StatusApproved)
	h.take()
	if err := w.signQueued("signer", d2.ID, ""); err != nil {
		t.Fatal(err)
	}
	if s := w.status(d2.ID); s != documents.StatusSigned || w.finishedUnqueued != 0 || w.publishedAfter != 1 || len(h.take()) != 1 {
		t.Fatalf("status %s, %d finishes not queued, %d published after, want signed, 0 and 1, with its event", s, w.finishedUnqueued, w.publishedAfter)
	}

	_, err = w.svc.QueueFinishSign(w.ctx, &pgx.Batch{}, w.p("signer"), documents.SignTurn{DocumentID: d.ID}, 2, "", "")
	if !errors.Is(err, documents.ErrFinishNotQueued) {
		t.Fatalf("a turn not begun: %v", err)
	}
}
