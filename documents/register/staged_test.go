package register_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// requests counts what reaches MinIO.
type requests struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *requests) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestIssueWritesTheSealAheadIntoTheTransaction: an issue on MinIO makes
// no request to it after the version's read (the seal's update is written
// into the issue's transaction); the issued version reads whole, by
// ranges and verifies before it is moved, and the move leaves one object
// holding only the seal's update. The same issue put before the commit
// makes its requests (HEAD, PUT, marker) inside the transaction.
func TestIssueWritesTheSealAheadIntoTheTransaction(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mc := testharness.MinIO(t)
	reqs := &requests{next: http.DefaultTransport.(*http.Transport).Clone()}
	raw, err := s3.New(ctx, s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket, Transport: reqs})
	if err != nil {
		t.Fatal(err)
	}
	st := stagedBlobs(t, w.db, raw, true)
	w.svc.Docs.Blobs = st
	w.draftKey, w.draftSize = w.put(testpdf.Bytes(testpdf.Options{Text: "QUYET DINH ve viec ban hanh quy che"}))
	w.signedKey, w.signedSize = w.put(w.signedBytes)

	d := w.signedDocument("QĐ", "thuong")
	objects := blobtest.Objects(t, raw)
	// The version to seal is read (and kept) first, as a signature leaves
	// it kept.
	if rc, err := st.Open(ctx, w.signedKey, 0, -1); err == nil {
		io.Copy(io.Discard, rc)
		rc.Close()
	}
	before := reqs.n.Load()
	out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)})
	if err != nil {
		t.Fatal(err)
	}
	issueReqs := reqs.n.Load() - before
	if n := stagedRows(t, w.db); n != 1 {
		t.Fatalf("%d staged updates after the issue, want 1", n)
	}
	if after := blobtest.Objects(t, raw); len(after) != len(objects) {
		t.Fatalf("the issue stored %d objects before its move", len(after)-len(objects))
	}
	v, err := storage.GetVersion(ctx, w.db.Pool, d.ID, out.Version)
	if err != nil {
		t.Fatal(err)
	}
	whole := readStaged(t, st, v.SHA256, 0, -1)
	if sum := sha256.Sum256(whole); hex.EncodeToString(sum[:]) != v.SHA256 || int64(len(whole)) != v.Size || !bytes.HasPrefix(whole, w.signedBytes) {
		t.Fatalf("the staged issued version reads as %d bytes that are not its key", len(whole))
	}
	if got := readStaged(t, st, v.SHA256, w.signedSize-10, 20); !bytes.Equal(got, whole[w.signedSize-10:w.signedSize+10]) {
		t.Fatal("a range across the seal's update reads wrong")
	}
	if info, err := st.Stat(ctx, v.SHA256); err != nil || info.Size != v.Size {
		t.Fatalf("stat of the staged version: %+v %v", info, err)
	}
	rep, err := verify.Verify(ctx, bytes.NewReader(whole), int64(len(whole)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil || rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("the staged issued version verifies %v with %d signatures (%v)", rep.Verdict, len(rep.Signatures), err)
	}

	// Moved: one object, only the seal's update.
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer st.Stop(context.Background())
	waitUnstaged(t, w.db)
	after := blobtest.Objects(t, raw)
	if len(after) != len(objects)+1 || after[v.SHA256] != v.Size-w.signedSize {
		t.Fatalf("after the move the bucket keeps %d bytes of the issued file (%d objects more), want %d in one",
			after[v.SHA256], len(after)-len(objects), v.Size-w.signedSize)
	}
	if got := readStaged(t, raw, v.SHA256, 0, -1); !bytes.Equal(got, whole) {
		t.Fatal("the moved version reads other bytes")
	}

	// The same issue with the update put before the commit.
	w.svc.Docs.Blobs = raw
	d2 := w.signedDocument("QĐ", "thuong")
	before = reqs.n.Load()
	if _, err := w.svc.Issue(ctx, w.clerk, d2.ID, register.IssueRequest{Recipients: toSoTC(w)}); err != nil {
		t.Fatal(err)
	}
	putReqs := reqs.n.Load() - before
	if issueReqs >= putReqs || putReqs-issueReqs < 3 {
		t.Fatalf("requests to MinIO in an issue: %d staged, %d put before the commit; staging should spare the PUTs", issueReqs, putReqs)
	}
	t.Logf("requests to MinIO in an issue: %d staged, %d put before the commit", issueReqs, putReqs)
	if _, ok := any(raw).(blob.TailPutter); !ok {
		t.Fatal("the s3 store lost PutTail")
	}
}

func readStaged(t *testing.T, s blob.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, off, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
