package register_test

import (
	"context"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/staged"
)

// stagedBlobs wraps inner as `vanthu serve` does, with the write-ahead of
// appended versions; its mover runs unless paused.
func stagedBlobs(t testing.TB, db *storage.DB, inner blob.Store, paused bool) *staged.Store {
	t.Helper()
	st, err := staged.New(inner, db.Pool, staged.Options{PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if paused {
		return st
	}
	if err := st.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st.Stop(ctx)
	})
	return st
}

// stagedRows is how many updates are staged.
func stagedRows(t testing.TB, db *storage.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM staged_blobs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitUnstaged waits (generously: the machine is busy; what tests assert
// is the result) until no update is staged.
func waitUnstaged(t testing.TB, db *storage.DB) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for stagedRows(t, db) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d staged updates not moved into the blob store", stagedRows(t, db))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
