package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(killHelperEnv); spec != "" {
		runKillHelper(spec)
	}
	testharness.Main(m)
}

// mode is one way Put can reach the bucket.
type mode struct {
	name   string
	spool  bool
	memory int64 // Config.BufferMemory
}

var (
	streamed = mode{"streamed via tmp object", false, 0}
	modes    = []mode{
		streamed,
		{"spooled in memory", true, 0},
		{"spooled to local file", true, -1},
	}
)

func newStore(t *testing.T, m mode, partSize uint64) *Store {
	t.Helper()
	cfg := testharness.MinIO(t)
	c := Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket, PartSize: partSize, BufferMemory: m.memory}
	if m.spool {
		c.SpoolDir = t.TempDir()
	}
	s, err := New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store {
				// The smallest part size S3 allows, so the contract's
				// streams span several parts.
				return newStore(t, m, minPartSize)
			})
		})
	}
}

// bucketContents lists every object version, delete markers excluded, and
// every unfinished multipart upload.
func bucketContents(t *testing.T, s *Store) (objects, uploads []string) {
	t.Helper()
	ctx := context.Background()
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if !o.IsDeleteMarker {
			objects = append(objects, o.Key)
		}
	}
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		uploads = append(uploads, u.Key)
	}
	return objects, uploads
}

// TestInterruptedUploadIsAborted checks the bucket itself right after a
// failed Put, before any sweep: no object version and no unfinished
// multipart upload may remain, and no spool file either.
func TestInterruptedUploadIsAborted(t *testing.T) {
	const before = 12 << 20 // two full 5 MiB parts sent, a third under way
	for _, m := range modes {
		for _, how := range []string{"cancelled", "reader error", "too large"} {
			t.Run(m.name+"/"+how, func(t *testing.T) {
				s := newStore(t, m, minPartSize)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				src := rand.New(rand.NewSource(7))
				var r io.Reader
				opts := blob.PutOptions{}
				switch how {
				case "cancelled":
					r = &cancelling{r: io.LimitReader(src, before), cancel: cancel}
				case "reader error":
					r = io.MultiReader(io.LimitReader(src, before), errReader{})
				case "too large":
					r, opts.Max = io.LimitReader(src, before+1), before
				}
				_, err := s.Put(ctx, r, opts)
				if err == nil {
					t.Fatal("put succeeded")
				}
				if how == "too large" && !errors.Is(err, blob.ErrTooLarge) {
					t.Fatalf("want ErrTooLarge, got %v", err)
				}
				objects, uploads := bucketContents(t, s)
				if len(objects) != 0 || len(uploads) != 0 {
					t.Fatalf("left behind: objects %v, unfinished uploads %v", objects, uploads)
				}
				if m.spool {
					if left, _ := os.ReadDir(s.cfg.SpoolDir); len(left) != 0 {
						t.Fatalf("%d spool files left", len(left))
					}
				}
			})
		}
	}
}

func TestSuccessfulPutLeavesOnlyTheContentObject(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := newStore(t, m, minPartSize)
			data := make([]byte, 11<<20) // three parts
			rand.New(rand.NewSource(3)).Read(data)
			info, err := s.Put(context.Background(), bytes.NewReader(data), blob.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			objects, uploads := bucketContents(t, s)
			if len(objects) != 1 || objects[0] != contentKey(info.Key) || len(uploads) != 0 {
				t.Fatalf("bucket holds %v, unfinished uploads %v; want only %s", objects, uploads, contentKey(info.Key))
			}
			// Same bytes again: no second version of the content key.
			if _, err := s.Put(context.Background(), bytes.NewReader(data), blob.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if objects, _ := bucketContents(t, s); len(objects) != 1 {
				t.Fatalf("after a duplicate put the bucket holds %v", objects)
			}
		})
	}
}

func TestRetainedVersionCannotBeRemoved(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	info, err := s.Put(ctx, strings.NewReader("quyết định đã ban hành"), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Retain(ctx, info.Key, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A second version written behind the store's back (a duplicate put
	// racing, or a careless operator) must not let Delete remove anything.
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, contentKey(info.Key), strings.NewReader("quyết định đã ban hành"), -1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, info.Key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete: %v", err)
	}
	if objects, _ := bucketContents(t, s); len(objects) != 2 {
		t.Fatalf("a refused delete removed versions: %v", objects)
	}
	// Not even the object store's own delete of the retained version works.
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(info.Key), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var retainedVersion string
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: contentKey(info.Key), WithVersions: true}) {
		if o.VersionID != st.VersionID {
			retainedVersion = o.VersionID
		}
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, contentKey(info.Key), minio.RemoveObjectOptions{VersionID: retainedVersion}); err == nil {
		t.Fatal("the object store removed a retained version")
	}
}

func TestSweepTemporary(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, tmpPrefix+"left-by-a-crash", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{tmpPrefix + "unfinished", contentPrefix + strings.Repeat("a", 64)} {
		if _, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, k, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.SweepTemporary(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep inside the grace period removed %d (%v)", n, err)
	}
	if n, err := s.SweepTemporary(ctx, -time.Second); err != nil || n != 3 {
		t.Fatalf("sweep removed %d (%v), want 3", n, err)
	}
	if objects, uploads := bucketContents(t, s); len(objects) != 0 || len(uploads) != 0 {
		t.Fatalf("after the sweep: objects %v, uploads %v", objects, uploads)
	}
}

func TestNewCreatesLockedBucket(t *testing.T) {
	cfg := testharness.MinIO(t)
	ctx := context.Background()
	s, err := New(ctx, Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket + "-new"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.client.RemoveBucket(context.Background(), cfg.Bucket+"-new") })
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if enabled, _, _, _, err := s.client.GetObjectLockConfig(ctx, cfg.Bucket+"-new"); err != nil || enabled != "Enabled" {
		t.Fatalf("object lock %q, %v", enabled, err)
	}
	for _, bad := range []Config{
		{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket, RetentionMode: "FOREVER"},
		{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket, PartSize: 1 << 20},
		{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: "wrong", Bucket: cfg.Bucket},
	} {
		if _, err := New(ctx, bad); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
}

// TestHeapStaysSmall uploads 200 MB from a generator and samples the live
// heap: the service must stay under 64 MB whatever the upload's size.
func TestHeapStaysSmall(t *testing.T) {
	const size, limit = 200 << 20, 64 << 20
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := newStore(t, m, 0)
			var info blob.Info
			var err error
			peak := peakHeap(func() {
				info, err = s.Put(context.Background(), io.LimitReader(rand.New(rand.NewSource(9)), size), blob.PutOptions{Max: size})
			})
			if err != nil || info.Size != size {
				t.Fatalf("put: %+v %v", info, err)
			}
			t.Logf("peak heap %.1f MB", float64(peak)/(1<<20))
			if peak > limit {
				t.Fatalf("peak heap %.1f MB, want under %d MB", float64(peak)/(1<<20), limit>>20)
			}
		})
	}
}

func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }

// cancelling cancels the context once r is exhausted, as a client hanging up
// mid-upload does.
type cancelling struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelling) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
		return n, context.Canceled
	}
	return n, err
}

// TestPutKnownStoresRetainedInOneRequest: bytes put under their SHA-256
// read back whole, carry their retention from the start (Delete is
// refused) and leave nothing else in the bucket; bytes under a key that is
// not theirs are refused by the server and nothing is stored.
func TestPutKnownStoresRetainedInOneRequest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	data := []byte("quyết định đã ký, giữ nguyên vẹn")
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	until := time.Now().Add(time.Hour)
	info, err := s.PutKnown(ctx, key, data, until)
	if err != nil || info.Key != key || info.Size != int64(len(data)) {
		t.Fatalf("put: %+v %v", info, err)
	}
	rc, err := s.Open(ctx, key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %q %v", got, err)
	}
	_, kept, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, contentKey(key), "")
	if err != nil || kept == nil || kept.Before(until.Add(-time.Second)) {
		t.Fatalf("retention %v %v, want until %v", kept, err, until)
	}
	if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete of a retained object: %v", err)
	}
	other := sha256.Sum256([]byte("another document"))
	if _, err := s.PutKnown(ctx, hex.EncodeToString(other[:]), data, time.Time{}); err == nil {
		t.Fatal("bytes put under a key that is not their SHA-256 were accepted")
	}
	if _, err := s.PutKnown(ctx, "not-a-key", data, time.Time{}); err == nil {
		t.Fatal("an invalid key was accepted")
	}
	if objects, uploads := bucketContents(t, s); len(objects) != 1 || len(uploads) != 0 {
		t.Fatalf("bucket holds %v and uploads %v, want the one object", objects, uploads)
	}
}
