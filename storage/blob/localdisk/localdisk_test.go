package localdisk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
)

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestLayoutAndRetentionMarker(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Put(ctx, bytes.NewReader([]byte("công văn")), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Sharded by the first two hex digits of the key.
	if _, err := os.Stat(filepath.Join(dir, info.Key[:2], info.Key)); err != nil {
		t.Fatalf("object not at its sharded path: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("%d temporary files after a put", len(left))
	}

	// A failed put leaves no temporary file behind, without any sweep.
	_, err = s.Put(ctx, io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), errReader{}), blob.PutOptions{})
	if err == nil {
		t.Fatal("failing put succeeded")
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("%d temporary files after a failed put", len(left))
	}

	// The retention marker outlives the process: a new Store on the same
	// directory still refuses the delete, until the date has passed.
	if err := s.Retain(ctx, info.Key, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Retaining for a shorter time does not shorten the retention.
	if err := s.Retain(ctx, info.Key, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	again, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Delete(ctx, info.Key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete after reopening: %v", err)
	}
	if until, ok := again.retainedUntil(info.Key); !ok || time.Until(until) < 50*time.Minute {
		t.Fatalf("retention %v %v, want about an hour", until, ok)
	}

	expired, err := s.Put(ctx, bytes.NewReader([]byte("hết hạn")), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Retain(ctx, expired.Key, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, expired.Key); err != nil {
		t.Fatalf("delete after the retention date: %v", err)
	}
	if _, err := os.Stat(s.retentionPath(expired.Key)); !os.IsNotExist(err) {
		t.Fatalf("retention marker left after delete: %v", err)
	}
}

func TestUnreadableRetentionMarkerFailsClosed(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Put(ctx, bytes.NewReader([]byte("sổ chứng thực")), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.retentionPath(info.Key), []byte("not a date"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, info.Key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete with a corrupt retention marker: %v", err)
	}
	if _, err := s.Stat(ctx, info.Key); err != nil {
		t.Fatalf("object gone: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }
