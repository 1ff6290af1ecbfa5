package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// TestBlobsKeepsTheStoresFastPaths: the service wraps its store with
// Blobs, and signing and issuing choose their one-request PUT by asserting
// blob.KnownPutter and blob.AppendPutter on what they are given. The
// wrapper must offer exactly what the store offers, and count the calls.
func TestBlobsKeepsTheStoresFastPaths(t *testing.T) {
	ctx := context.Background()
	cfg := testharness.MinIO(t)
	bucket, err := s3.New(ctx, s3.Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	disk, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		store         blob.Store
		known, append bool
	}{
		{"minio", bucket, true, true},
		{"local disk", disk, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := Blobs(tc.store)
			kp, known := w.(blob.KnownPutter)
			ap, appends := w.(blob.AppendPutter)
			if known != tc.known || appends != tc.append {
				t.Fatalf("wrapped store: KnownPutter %v AppendPutter %v, want %v %v", known, appends, tc.known, tc.append)
			}
			if !known {
				return
			}
			base := []byte("%PDF-1.7 the draft")
			whole := append(append([]byte{}, base...), " and a signature appended"...)
			before := count(t, blobOps.WithLabelValues("put_known", "ok"))
			baseKey := keyOf(base)
			if _, err := kp.PutKnown(ctx, baseKey, base, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if got := count(t, blobOps.WithLabelValues("put_known", "ok")); got != before+1 {
				t.Fatalf("put_known counted %v times", got-before)
			}
			before = count(t, blobOps.WithLabelValues("put_appended", "ok"))
			info, err := ap.PutAppended(ctx, keyOf(whole), baseKey, whole, int64(len(base)), time.Time{})
			if err != nil || info.Size != int64(len(whole)) {
				t.Fatalf("put appended: %+v %v", info, err)
			}
			if got := count(t, blobOps.WithLabelValues("put_appended", "ok")); got != before+1 {
				t.Fatalf("put_appended counted %v times", got-before)
			}
		})
	}
}

func keyOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func count(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
