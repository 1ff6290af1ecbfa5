package register_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// TestIssueReservesTheLastCMSSize: the first issue with a seal key
// reserves signing's estimate for the seal's CMS; the next ones reserve
// the size of the last CMS and signing.ContentsMargin (signing learns it,
// room.go), so their update is smaller by the padding left over. Every
// issued file verifies VALID, in the verifier and in pdfsig. (A CMS that
// outgrows the room learned is made again with the estimate: signing's
// TestLearnedRoomTooSmall, on the same outputs as the seal's.)
func TestIssueReservesTheLastCMSSize(t *testing.T) {
	// Sealed into a temporary file (a store without known puts), and in
	// memory (MinIO through the write-ahead, as serve wraps it).
	t.Run("temporary file", func(t *testing.T) { reservesTheLastCMSSize(t, newWorld(t)) })
	t.Run("in memory", func(t *testing.T) {
		w := newWorld(t)
		mc := testharness.MinIO(t)
		raw, err := s3.New(context.Background(), s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket})
		if err != nil {
			t.Fatal(err)
		}
		w.svc.Docs.Blobs = stagedBlobs(t, w.db, raw, false)
		w.signedKey, w.signedSize = w.put(w.signedBytes)
		reservesTheLastCMSSize(t, w)
	})
}

func reservesTheLastCMSSize(t *testing.T, w *world) {
	first := w.issueAndRead(t)
	second := w.issueAndRead(t)
	room1, cms1 := contentsRoom(t, first[len(w.signedBytes):])
	room2, cms2 := contentsRoom(t, second[len(w.signedBytes):])
	// contentsRoom counts a CMS whose DER ends in zero bytes a few bytes
	// short; signing learns its exact length.
	if learned := room2 - signing.ContentsMargin; learned < cms1 || learned > cms1+8 || cms2 > room2 {
		t.Fatalf("second seal reserves %d bytes for a CMS of %d; want the first's %d and %d", room2, cms2, cms1, signing.ContentsMargin)
	}
	t.Logf("seal's update: %d bytes reserving %d for a CMS of %d, then %d bytes reserving %d", len(first)-len(w.signedBytes), room1, cms1, len(second)-len(w.signedBytes), room2)
	if len(second) >= len(first) || room1-room2 < 4096 {
		t.Fatalf("second issued file %d bytes (room %d), first %d (room %d): the padding was not cut", len(second), room2, len(first), room1)
	}

	for _, file := range [][]byte{first, second} {
		w.requireValid(t, file)
	}
}

// requireValid checks that both signatures of an issued file, the
// signer's and the organisation's, are VALID in the verifier and in
// pdfsig.
func (w *world) requireValid(t *testing.T, file []byte) {
	t.Helper()
	rep, err := verify.Verify(context.Background(), bytes.NewReader(file), int64(len(file)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("verifier: %s with %d signatures: %v", rep.Verdict, len(rep.Signatures), rep.Errors)
	}
	path := filepath.Join(t.TempDir(), "issued.pdf")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	pdfsig := testharness.Tool(t, "pdfsig", "poppler-utils")
	out, err := exec.Command(pdfsig, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "Signature Validation: Signature is Valid."); got != 2 {
		t.Fatalf("pdfsig finds %d valid signatures, want 2:\n%s", got, out)
	}
}

// issueAndRead issues a signed document and reads the issued file.
func (w *world) issueAndRead(t *testing.T) []byte {
	t.Helper()
	d := w.signedDocument("QĐ", "thuong")
	if _, err := w.svc.Issue(context.Background(), w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err != nil {
		t.Fatal(err)
	}
	return w.latest(d)
}

// contentsRoom is the room the seal's signature dictionary in update
// reserves for its CMS and the CMS's length, in bytes (the hex digits
// halved, without the padding zeros).
func contentsRoom(t *testing.T, update []byte) (room, cms int) {
	t.Helper()
	const open = "/Contents <"
	at := bytes.LastIndex(update, []byte(open))
	if at < 0 {
		t.Fatal("no /Contents in the seal's update")
	}
	end := bytes.IndexByte(update[at+len(open):], '>')
	if end < 0 {
		t.Fatal("the seal's /Contents is not closed")
	}
	digits := bytes.TrimRight(update[at+len(open):at+len(open)+end], "0")
	return end / 2, (len(digits) + 1) / 2
}
