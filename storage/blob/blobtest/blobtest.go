// Package blobtest is the contract every blob.Store implementation passes.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
)

// Run runs the contract against stores made by newStore (a fresh one per call).
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	ctx := context.Background()
	data := make([]byte, 3<<20+17)
	rand.New(rand.NewSource(1)).Read(data)
	sum := sha256.Sum256(data)
	wantKey := hex.EncodeToString(sum[:])

	t.Run("round trip and dedupe", func(t *testing.T) {
		s := newStore(t)
		info, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Key != wantKey || info.Size != int64(len(data)) {
			t.Fatalf("info %+v, want key %s size %d", info, wantKey, len(data))
		}
		again, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{})
		if err != nil || again.Key != wantKey {
			t.Fatalf("second put: %+v %v", again, err)
		}
		if got := readAll(t, s, wantKey, 0, -1); !bytes.Equal(got, data) {
			t.Fatal("read back differs")
		}
		if n := count(t, s); n != 1 {
			t.Fatalf("%d objects after storing the same bytes twice", n)
		}
	})

	t.Run("ranges", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, data)
		for _, r := range []struct{ off, n int64 }{{0, 1}, {5, 100}, {int64(len(data)) - 10, 10}, {1 << 20, -1}, {7, 0}} {
			want := data[r.off:]
			if r.n >= 0 {
				want = data[r.off : r.off+r.n]
			}
			if got := readAll(t, s, wantKey, r.off, r.n); !bytes.Equal(got, want) {
				t.Fatalf("range %d+%d: got %d bytes, want %d", r.off, r.n, len(got), len(want))
			}
		}
	})

	t.Run("missing and invalid keys", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Stat(ctx, wantKey); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("stat of missing object: %v", err)
		}
		if _, err := s.Open(ctx, wantKey, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("open of missing object: %v", err)
		}
		if _, err := s.Open(ctx, "../../etc/passwd", 0, -1); err == nil {
			t.Fatal("path-like key accepted")
		}
	})

	t.Run("size limit stores nothing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{Max: int64(len(data) - 1)}); !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("want ErrTooLarge, got %v", err)
		}
		assertEmpty(t, s)
	})

	t.Run("check sees the complete bytes; a failed check stores nothing", func(t *testing.T) {
		s := newStore(t)
		var seen int64
		_, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{Check: func(r io.ReaderAt, size int64) error {
			seen = size
			head := make([]byte, 4)
			if _, err := r.ReadAt(head, 0); err != nil {
				return err
			}
			if !bytes.Equal(head, data[:4]) {
				return errors.New("check saw other bytes at the head")
			}
			// A read running past the end yields what there is and io.EOF,
			// as io.ReaderAt says.
			tail := make([]byte, 20)
			n, err := r.ReadAt(tail, size-10)
			if n != 10 || !errors.Is(err, io.EOF) || !bytes.Equal(tail[:n], data[len(data)-10:]) {
				return fmt.Errorf("read across the end: %d bytes, %v", n, err)
			}
			return errRejected
		}})
		if !errors.Is(err, errRejected) || seen != int64(len(data)) {
			t.Fatalf("put with a failing check: %v (check saw %d bytes)", err, seen)
		}
		assertEmpty(t, s)

		// A passing check stores the object.
		info, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{Check: func(io.ReaderAt, int64) error { return nil }})
		if err != nil || info.Key != wantKey {
			t.Fatalf("put with a passing check: %+v %v", info, err)
		}
	})

	t.Run("BeforeStore runs with the key before the store looks for the object", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, data)
		// The object exists; an error from BeforeStore still fails the Put,
		// so the hook ran before the store found it there.
		var got string
		_, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{BeforeStore: func(_ context.Context, key string) error {
			got = key
			return errRejected
		}})
		if !errors.Is(err, errRejected) || got != wantKey {
			t.Fatalf("put with a failing BeforeStore: %v, key %q", err, got)
		}
		if err := s.Delete(ctx, wantKey); err != nil {
			t.Fatal(err)
		}
		_, err = s.Put(ctx, bytes.NewReader(data), blob.PutOptions{BeforeStore: func(context.Context, string) error { return errRejected }})
		if !errors.Is(err, errRejected) {
			t.Fatalf("put with a failing BeforeStore: %v", err)
		}
		assertEmpty(t, s)
	})

	t.Run("reader failing mid-stream stores nothing", func(t *testing.T) {
		s := newStore(t)
		// Long enough for several multipart parts to be sent before the failure.
		r := io.MultiReader(io.LimitReader(newPattern(), streamBeforeFailure), failingReader{})
		if _, err := s.Put(ctx, r, blob.PutOptions{}); err == nil {
			t.Fatal("put of a failing stream succeeded")
		}
		assertEmpty(t, s)
	})

	t.Run("cancelled context stores nothing", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		r := &cancelAfter{r: newPattern(), n: streamBeforeFailure, cancel: cancel}
		if _, err := s.Put(cctx, r, blob.PutOptions{}); err == nil {
			t.Fatal("put with a cancelled context succeeded")
		}
		assertEmpty(t, s)
	})

	t.Run("retention blocks delete", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, data)
		if err := s.Retain(ctx, wantKey, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, wantKey); !errors.Is(err, blob.ErrRetained) {
			t.Fatalf("delete of retained object: %v", err)
		}
		if got := readAll(t, s, wantKey, 0, -1); !bytes.Equal(got, data) {
			t.Fatal("retained object changed")
		}
		// Storing the same bytes again is still fine.
		if info, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{}); err != nil || info.Key != wantKey {
			t.Fatalf("put of retained bytes: %+v %v", info, err)
		}
		if err := s.Retain(ctx, strings.Repeat("0", 64), time.Now().Add(time.Hour)); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("retain of a missing object: %v", err)
		}
	})

	t.Run("delete removes the object for good", func(t *testing.T) {
		s := newStore(t)
		small := []byte("xoá được")
		key := mustPut(t, s, small)
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("stat after delete: %v", err)
		}
		if n := count(t, s); n != 0 {
			t.Fatalf("%d objects listed after delete", n)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
		if got := mustPut(t, s, small); got != key {
			t.Fatalf("put after delete: %s", got)
		}
		if got := readAll(t, s, key, 0, -1); !bytes.Equal(got, small) {
			t.Fatal("read after re-put differs")
		}
	})

	t.Run("sweep removes only unreferenced old objects", func(t *testing.T) {
		s := newStore(t)
		keep := mustPut(t, s, []byte("referenced"))
		orphan := mustPut(t, s, []byte("orphan"))
		retained := mustPut(t, s, []byte("retained, unreferenced"))
		if err := s.Retain(ctx, retained, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		referenced := func(_ context.Context, key string) (bool, error) { return key == keep, nil }
		if n, err := blob.Sweep(ctx, s, referenced, time.Hour); err != nil || n != 0 {
			t.Fatalf("sweep inside the grace period removed %d (%v)", n, err)
		}
		if _, err := blob.Sweep(ctx, s, referenced, -time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, orphan); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("orphan survived the sweep: %v", err)
		}
		for _, k := range []string{keep, retained} {
			if _, err := s.Stat(ctx, k); err != nil {
				t.Fatalf("sweep removed %s: %v", k, err)
			}
		}
	})

	t.Run("ping", func(t *testing.T) {
		if err := newStore(t).Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func mustPut(t *testing.T, s blob.Store, b []byte) string {
	t.Helper()
	info, err := s.Put(context.Background(), bytes.NewReader(b), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return info.Key
}

func readAll(t *testing.T, s blob.Store, key string, off, n int64) []byte {
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

func count(t *testing.T, s blob.Store) int {
	t.Helper()
	n := 0
	if err := s.List(context.Background(), func(blob.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertEmpty checks that nothing readable was stored, including after the
// sweeper removed temporary leftovers.
func assertEmpty(t *testing.T, s blob.Store) {
	t.Helper()
	if n := count(t, s); n != 0 {
		t.Fatalf("%d objects readable after a failed put", n)
	}
	if _, err := s.SweepTemporary(context.Background(), -time.Second); err != nil {
		t.Fatal(err)
	}
}

var errRejected = errors.New("rejected by check")

// streamBeforeFailure is how much a failing or cancelled stream yields first:
// more than two parts at S3's 5 MiB minimum part size.
const streamBeforeFailure = 12 << 20

// newPattern returns an endless deterministic stream that never repeats a
// part, without holding it in memory.
func newPattern() io.Reader { return rand.New(rand.NewSource(42)) }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }

type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
		return 0, context.Canceled
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

// Objects is what the store holds: each key's stored size (for an
// appended blob, what its object keeps, not the whole file).
func Objects(tb testing.TB, store blob.Store) map[string]int64 {
	tb.Helper()
	m := map[string]int64{}
	if err := store.List(context.Background(), func(i blob.Info) error { m[i.Key] = i.Size; return nil }); err != nil {
		tb.Fatal(err)
	}
	return m
}

// NewBytes is what the objects stored since before (an Objects listing)
// hold (stored) and read back as (logical: an appended blob reads as the
// whole file).
func NewBytes(tb testing.TB, store blob.Store, before map[string]int64) (stored, logical int64) {
	tb.Helper()
	for key, size := range Objects(tb, store) {
		if _, ok := before[key]; ok {
			continue
		}
		info, err := store.Stat(context.Background(), key)
		if err != nil {
			tb.Fatal(err)
		}
		stored, logical = stored+size, logical+info.Size
	}
	return stored, logical
}
