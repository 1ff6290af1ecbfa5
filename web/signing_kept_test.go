package web_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
)

// uniqueDraft is the printed chairman's draft with an incremental update
// of random bytes: a content no other test has signed, so what the
// process keeps of the versions it signed (signing.Versions) starts
// without it.
func uniqueDraft(tb testing.TB) []byte {
	tb.Helper()
	return withNoise(tb, draft(tb, "qd-chu-tich.pdf"))
}

// TestSigningKeptVersions: the service keeps the versions it reads and
// signs (signing.Versions) with their SHA-256 state and their parse. The
// first signature of a draft reads it, hashes it once (checked against its
// content key) and parses it once; a second document with the same bytes
// is signed without reading, parsing or hashing the draft; the next
// signer signs the version the first made without reading or hashing it
// (parsed once). Every signature hashes only its own update beyond that,
// each stored file is the bytes its key names, and each is VALID.
// Not parallel: the counts are the process's.
func TestSigningKeptVersions(t *testing.T) {
	w := newSignWorld(t)
	w.bindP12(w.an, devpki.Official)
	w.bindP12(w.binh, devpki.Deputy)
	in := uniqueDraft(t)
	size := int64(len(in))
	const update = 64 << 10 // a signature's update is well under this

	type counts struct{ misses, hits, parses, hashed int64 }
	now := func() counts {
		st := signing.Versions.Stats()
		return counts{st.Misses, st.Hits, pdfupdate.Parses(), signing.HashedBytes()}
	}
	sign := func(m member, docID string, body map[string]any) (storage.Version, counts) {
		t.Helper()
		w.turns.give(docID, m.user.ID)
		before := now()
		resp, b := w.call(m.token, "POST", "/api/v1/documents/"+docID+"/sign", body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("sign by %s: %d %s", m.user.Username, resp.StatusCode, b)
		}
		after := now()
		return decode[storage.Version](t, b), counts{after.misses - before.misses, after.hits - before.hits, after.parses - before.parses, after.hashed - before.hashed}
	}

	first := w.e.uploadPDF("Quyết định", in)
	v2, c := sign(w.an, first.ID, map[string]any{})
	if c.misses != 1 || c.hits != 0 || c.parses != 1 || c.hashed < size || c.hashed > size+2*update {
		t.Fatalf("first signature of the draft: %+v; want it read, parsed and hashed once (%d bytes)", c, size)
	}
	signed := w.file(first.ID, 2)
	if sha(signed) != v2.SHA256 {
		t.Fatal("the stored file is not the bytes its key names")
	}
	w.assertSigned(in, signed, 1, "Nguyễn Văn An")

	second := w.e.uploadPDF("Quyết định", in)
	v, c := sign(w.an, second.ID, map[string]any{})
	if c.misses != 0 || c.hits != 1 || c.parses != 0 || c.hashed > 2*update {
		t.Fatalf("the same draft again: %+v; want nothing read, parsed or hashed but the update", c)
	}
	if out := w.file(second.ID, 2); sha(out) != v.SHA256 {
		t.Fatal("the stored file is not the bytes its key names")
	} else {
		w.assertSigned(in, out, 1, "Nguyễn Văn An")
	}

	v3, c := sign(w.binh, first.ID, map[string]any{"page": 1, "rect": []float64{60, 100, 260, 200}})
	if c.misses != 0 || c.hits != 1 || c.parses != 1 || c.hashed > 2*update {
		t.Fatalf("the next signer on the version signed: %+v; want it parsed once, nothing read or hashed but the update", c)
	}
	third := w.file(first.ID, 3)
	if sha(third) != v3.SHA256 || v3.Number != 3 {
		t.Fatalf("version %d: the stored file is not the bytes its key names", v3.Number)
	}
	// Bình's name is not printed: the signature goes in the rectangle.
	rep, err := verify.Verify(context.Background(), bytes.NewReader(third), int64(len(third)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil || rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("verifier: %v %+v", err, rep)
	}
	rendercheck.AssertPdfsigValid(t, third, 2)
}
