package register_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
)

// TestIssueKeptVersions: issuing goes through the versions the process
// keeps (signing.Versions). The first issue of a signed file reads it,
// hashes it once (checked against its key) and parses it once; a second
// document with the same signed file is issued without reading, parsing
// or hashing it: only the seal's update is hashed. Both issued files are
// the bytes their keys name and VALID with both signatures.
// Not parallel: the counts are the process's.
func TestIssueKeptVersions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const update = 160 << 10 // the seal's update (its image, the QR code) is well under this
	for i, want := range []struct {
		misses, parses int64
		maxHashed      int64
	}{
		{1, 1, w.signedSize + 2*update},
		{0, 0, 2 * update},
	} {
		d := w.signedDocument("QĐ", "thuong")
		st, parses, hashed := signing.Versions.Stats(), pdfupdate.Parses(), signing.HashedBytes()
		out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)})
		if err != nil {
			t.Fatal(err)
		}
		misses, p, h := signing.Versions.Stats().Misses-st.Misses, pdfupdate.Parses()-parses, signing.HashedBytes()-hashed
		if misses != want.misses || p != want.parses || h > want.maxHashed || (want.misses == 1 && h < w.signedSize) {
			t.Fatalf("issue %d: %d reads, %d parses, %d bytes hashed; want %d, %d, at most %d", i+1, misses, p, h, want.misses, want.parses, want.maxHashed)
		}
		v, err := storage.GetVersion(ctx, w.db.Pool, d.ID, out.Version)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := w.svc.Docs.Open(ctx, v, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != v.SHA256 || !bytes.HasPrefix(pdf, w.signedBytes) {
			t.Fatalf("issue %d: the stored file is not the bytes its key names, or not an update of the signed file", i+1)
		}
		rep, err := verify.Verify(ctx, bytes.NewReader(pdf), int64(len(pdf)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
			t.Fatalf("issue %d: verifier %s with %d signatures", i+1, rep.Verdict, len(rep.Signatures))
		}
	}
}
