package blob_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestRunSweeper(t *testing.T) {
	dir := t.TempDir()
	s, err := localdisk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keep, err := s.Put(ctx, bytes.NewReader([]byte("referenced")), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := s.Put(ctx, bytes.NewReader([]byte("orphan")), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "tmp", "put-left-by-a-crash")
	if err := os.WriteFile(leftover, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	referenced := func(_ context.Context, key string) (bool, error) {
		if calls.Add(1) == 1 {
			return false, errors.New("database unavailable") // the first sweep fails and is retried
		}
		return key == keep.Key, nil
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		blob.RunSweeper(rctx, 20*time.Millisecond, s, referenced, -time.Second)
	}()
	deadline := time.Now().Add(time.Minute) // a hang, not a speed
	for {
		_, errOrphan := s.Stat(ctx, orphan.Key)
		_, errLeft := os.Stat(leftover)
		if errors.Is(errOrphan, blob.ErrNotFound) && os.IsNotExist(errLeft) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sweeper did not remove the orphan (%v) and the leftover (%v)", errOrphan, errLeft)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("RunSweeper did not return after cancel")
	}
	if _, err := s.Stat(ctx, keep.Key); err != nil {
		t.Fatalf("referenced object removed: %v", err)
	}
	if calls.Load() < 2 {
		t.Fatalf("referenced called %d times", calls.Load())
	}
}
