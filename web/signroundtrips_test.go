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
// real approval chain, goes to PostgreSQL eight times: the transaction's
// begin with every question asked before the signature (the document
// locked if the signer may see it, its latest version, the signer's keys,
// delegations and signature image, the organisation and its level); the
// chain's BeginSign (its locked read with the version, its reservation);
// the move job of the signature's update (storage/blob/staged, the job
// that moves what is staged onto the version signed), inserted while the
// key signs and the TSA answers, when the transaction's connection is
// idle; after the signature the blob's lock with the new
// version, the chain's FinishSign (its locked read with the new version,
// its writes), and the commit, which carries the audit entry, the
// idempotency record and the signature's update written ahead
// (storage.CommitBatch): eight, of which four come after the signature,
// and 31 statements. It was nine round trips, five after
// the signature (the audit entry, the move job and the commit each one),
// and before that twenty of 31 statements, one after another
// (BENCHMARKS.md, "Round trips before signing and issuing"). Prepare and
// complete, the two steps of a signature with a key the signer holds, run
// the same code.
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
		{"no key", "", 8, 31},
		// The key's earlier answer is looked for first, and the answer is
		// recorded with the audit entry: one round trip and two statements
		// more.
		{"idempotency key", "sign-roundtrips-1", 9, 33},
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
