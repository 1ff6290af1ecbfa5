package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/staged"
)

// stagedBlobs wraps the store as `vanthu serve` does, with the write-ahead
// of appended versions and its mover running; moved waits until every
// staged update is in the store.
func stagedBlobs(t testing.TB, db *storage.DB, inner blob.Store) (*staged.Store, func()) {
	t.Helper()
	st, err := staged.New(inner, db.Pool, staged.Options{PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st.Stop(ctx)
	})
	return st, func() { t.Helper(); waitUnstaged(t, db) }
}

// waitUnstaged waits (generously: the machine is busy; what tests assert
// is the result) until no update is staged.
func waitUnstaged(t testing.TB, db *storage.DB) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var n int
		if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM staged_blobs").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d staged updates not moved into the blob store", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
