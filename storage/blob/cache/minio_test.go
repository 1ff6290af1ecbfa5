package cache

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func newMinIO(t *testing.T) *s3.Store { return newMinIOConfig(t) }

func newMinIOConfig(t testing.TB) *s3.Store {
	t.Helper()
	cfg := testharness.MinIO(t)
	s, err := s3.New(context.Background(), s3.Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The cached store keeps the contract of every blob.Store, over MinIO and
// with a budget small enough that the contract's 3 MiB blob is evicted and
// fetched again.
func TestContractOverMinIO(t *testing.T) {
	for _, budget := range []int64{DefaultBudget, 4 << 20} {
		blobtest.Run(t, func(t *testing.T) blob.Store {
			return New(newMinIO(t), Options{Budget: budget})
		})
	}
}

func TestOverMinIO(t *testing.T) {
	ctx := context.Background()
	data := make([]byte, 1<<20+123)
	rand.New(rand.NewSource(3)).Read(data)
	key := keyOf(data)
	size := int64(len(data))

	ranges := []struct {
		name           string
		offset, length int64
	}{
		{"whole", 0, -1},
		{"pdf.js first chunk", 0, 65536},
		{"pdf.js tail", size - 65536, 65536},
		{"middle", 300000, 65536},
		{"to the end", 1 << 20, -1},
		{"one byte", 12345, 1},
		{"past the end", size - 10, 100},
	}
	fills := []struct {
		name      string
		fill      func(t *testing.T, c *Store)
		storeHits int // whole reads of MinIO the first range costs
	}{
		{"filled by a whole read", func(t *testing.T, c *Store) { read(t, c, key, 0, -1) }, 0},
		{"filled by PutKnown", func(t *testing.T, c *Store) {
			if _, err := c.PutKnown(ctx, key, data, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"cold: the first range fetches the 1 MiB blob", nil, 1},
	}
	for _, f := range fills {
		t.Run(f.name, func(t *testing.T) {
			s := newMinIO(t)
			if _, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			c := newStore(s, Options{Budget: 8 << 20})
			if f.fill != nil {
				f.fill(t, c)
			}
			before := c.Stats()
			for _, r := range ranges {
				if got := read(t, c, key, r.offset, r.length); !bytes.Equal(got, want(data, r.offset, r.length)) {
					t.Fatalf("%s: %d bytes differ from MinIO's", r.name, len(got))
				}
				direct := read(t, s, key, r.offset, r.length)
				if !bytes.Equal(direct, want(data, r.offset, r.length)) {
					t.Fatalf("%s: MinIO itself answers %d bytes", r.name, len(direct))
				}
			}
			after := c.Stats()
			if misses := after.Misses - before.Misses; misses != int64(f.storeHits) || after.Blobs != 1 || after.Bytes != size {
				t.Fatalf("before %+v after %+v", before, after)
			}
		})
	}

	t.Run("delete evicts", func(t *testing.T) {
		s := newMinIO(t)
		c := newStore(s, Options{Budget: 8 << 20})
		if _, err := c.PutKnown(ctx, key, data, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Open(ctx, key, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("open after delete: %v", err)
		}
		if _, err := c.Open(ctx, key, 10, 10); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("range after delete: %v", err)
		}
		if s := c.Stats(); s.Blobs != 0 {
			t.Fatalf("stats %+v", s)
		}
	})
}
