package storage

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vanthu/vanthu/internal/testharness"
)

// TestSharedFlushOneFlushForManyCommits: commits waiting while a flush runs
// share the next one. The pool's only connection is held, so the first
// waiter's flush cannot begin; the commits that wait meanwhile join the
// flush after it, not the one already taken: once the connection is
// free, twelve waits have made two flushes, and each of them began after
// its waiters joined.
func TestSharedFlushOneFlushForManyCommits(t *testing.T) {
	ctx := context.Background()
	url := testharness.Postgres(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	pool, err := pgxpool.New(ctx, url+sep+"pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var f SharedFlush
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	wait := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.Wait(ctx, pool)
		}()
	}
	// state is the round not begun yet: nil once the first was taken.
	state := func() (running bool, joined int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.next != nil {
			joined = f.next.joined
		}
		return f.running, joined
	}
	wait()
	for {
		if running, joined := state(); running && joined == 0 {
			break // the first flush was taken and waits for the connection
		}
		runtime.Gosched()
	}
	for range 11 {
		wait()
	}
	for {
		if _, joined := state(); joined == 11 {
			break
		}
		runtime.Gosched()
	}
	if n := f.Flushes(); n != 0 {
		t.Fatalf("%d flushes made while the connection was held", n)
	}
	held.Release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("wait: %v", err)
		}
	}
	if n := f.Flushes(); n != 2 {
		t.Errorf("12 commits waited with %d flushes, want 2 (the first's, then one for the 11 others)", n)
	}
	// The flushing goroutine ends once nobody waits.
	for {
		running, joined := state()
		if joined != 0 {
			t.Fatalf("%d waiting after the waits", joined)
		}
		if !running {
			break
		}
		runtime.Gosched()
	}
}
