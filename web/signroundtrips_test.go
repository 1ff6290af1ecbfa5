package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
)

// TestSignRoundTrips: a signature with a key the service holds, on the
// real approval chain, goes to PostgreSQL three times: the transaction's
// begin with every question asked before the signature (the document
// locked if the signer may see it, with its generic plan, its latest
// version, the chain's locked state its turn is granted from
// (chain.Service.QueueSignTurn), the signer's keys, delegations and
// signature image, the organisation and its level, the transaction's
// time); the move job of the signature's update (storage/blob/staged, the
// job that moves what is staged onto the version signed), inserted while
// the key signs and the TSA answers, when the transaction's connection is
// idle; and after the signature one batch that commits
// (storage.CommitBatch): the blob's lock, the new version (its number the
// next after the version signed, its time the transaction's), the chain's
// FinishSign queued from what its begin read under the same locks
// (chain.Service.QueueFinishSign: a check that the version is in the
// batch, the turn ended, the history, the chain saved), the audit
// entries, the signature's update written ahead, the idempotency record
// and COMMIT; 27 statements. The turn's reservation, which only a
// prepared signature commits, is not sent. It was four round trips of 28
// statements (the chain's locked read a round trip of its own, the
// reservation sent with the commit); before that eight of 31, five of
// them one after another before the signature's end and four after it
// (the version's batch, the chain's locked read again and its writes,
// the commit); before that nine, then twenty (BENCHMARKS.md, "Round
// trips before signing and issuing", "Signing: one round trip after the
// signature"). Prepare and complete, the two steps of a signature with a
// key the signer holds, run the same code.
func TestSignRoundTrips(t *testing.T) {
	k := newTrinhKy(t)
	k.bindP12(k.an, devpki.Official)
	pool, c := testharness.TracedPool(t, k.e.db.Pool)
	db := &storage.DB{Pool: pool}
	docs := &documents.Service{DB: db, Blobs: k.e.blobs, Retention: k.e.server.Docs.Retention}
	svc := &docsign.Service{DB: db, Docs: docs, Accounts: k.e.accounts, Turns: &chain.Service{DB: db, Docs: docs},
		TSAURL: k.pki.TSAURL(), TempDir: t.TempDir()}
	ctx := context.Background()
	an := accounts.Principal{User: k.an.user}
	in := draft(t, "qd-chu-tich.pdf")

	for _, tc := range []struct {
		name              string
		key               string
		trips, statements int
	}{
		{"no key", "", 3, 27},
		// The key's earlier answer is looked for first, and the answer is
		// recorded with the audit entry: one round trip and two statements
		// more.
		{"idempotency key", "sign-roundtrips-1", 4, 29},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := k.approved("Quyết định "+tc.name, in)
			c.Reset()
			v, err := svc.Sign(ctx, an, doc.ID, docsign.Request{IdempotencyKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			// River's notification of the move job's insert (sent at
			// most once a second per queue) is one round trip and one
			// statement more when sent.
			trips, statements := c.Counts()
			notified := strings.Count(c.String(), "PGNotifyMany")
			trips, statements = trips-notified, statements-notified
			if trips != tc.trips || statements != tc.statements {
				t.Errorf("%d round trips, %d statements, want %d and %d:\n%s", trips, statements, tc.trips, tc.statements, c)
			}
			// The move job is inserted before the signature's version
			// (while the signature is made), and the commit is the last
			// statement of the last batch.
			sent := c.String()
			if move, lock := strings.Index(sent, "JobInsertFastMany"), strings.Index(sent, "pg_advisory_xact_lock"); move < 0 || lock < 0 || move > lock {
				t.Errorf("the move job is not inserted before the version:\n%s", sent)
			}
			if !strings.HasSuffix(sent, "(batch) COMMIT") {
				t.Errorf("the commit is not sent with the last batch:\n%s", sent)
			}
			// After the signature, one batch: from the blob's lock on,
			// the new version, the chain's writes and the commit.
			after := strings.Split(strings.TrimSpace(sent[lockAt(sent):]), "\n")
			for _, want := range []string{"INSERT INTO document_versions", "UPDATE inbox_items", "INSERT INTO chain_actions", "INSERT INTO audit_pending"} {
				if !strings.Contains(sent[lockAt(sent):], want) {
					t.Errorf("%q is not in the batch after the signature:\n%s", want, sent)
				}
			}
			for _, line := range after {
				if !strings.HasPrefix(strings.TrimSpace(line), "(batch)") {
					t.Errorf("after the signature, %q is not in the batch that commits:\n%s", line, sent)
				}
			}
			if v.Number != 2 || !v.Signed {
				t.Errorf("version %+v", v)
			}
			if st := k.chain(doc.ID); st.Status != "signed" || st.Version != 2 || st.Signatures != 1 {
				t.Errorf("chain after signing: %+v", st)
			}
		})
	}

	// Someone who may not see the document learns nothing: the locked read
	// finds nothing to lock, and the transaction is rolled back.
	doc := k.approved("Quyết định của người khác", in)
	c.Reset()
	other := k.e.newOffice("XA", "Ủy ban nhân dân xã Khác", "VP")
	outsider := accounts.Principal{User: k.e.member(other.org.ID, "nguoingoai", []string{storage.RoleSigner}, other.units["VP"].ID).user}
	if _, err := svc.Sign(ctx, outsider, doc.ID, docsign.Request{}); err == nil || !strings.Contains(err.Error(), documents.ErrNotFound.Error()) {
		t.Errorf("outsider: %v", err)
	}
	if trips, _ := c.Counts(); trips != 2 {
		t.Errorf("outsider: %d round trips:\n%s", trips, c)
	}
}

// lockAt is where the blob's lock, the first statement after the
// signature, is in what was sent (or its end).
func lockAt(sent string) int {
	i := strings.Index(sent, "(batch) SELECT pg_advisory_xact_lock")
	if i < 0 {
		return len(sent)
	}
	return i
}
