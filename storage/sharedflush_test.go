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
// share the next one. The first waiter's flush is held before it begins;
// the commits that wait meanwhile join the flush after it, not the one
// already taken: once it is let go, twelve waits have made two flushes,
// and each of them began after its waiters joined. The pool's only
// connection is held throughout: the flushes do not take the requests'.
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
	defer held.Release()
	let := make(chan struct{})
	var f SharedFlush
	var first sync.Once
	f.beforeFlush = func() { first.Do(func() { <-let }) }
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	wait := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.Wait(ctx, pool)
		}()
	}
	// state is whether flushes run and who joined the round not begun yet.
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
			break // the first flush was taken and is held
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
		t.Fatalf("%d flushes made while the first was held", n)
	}
	close(let)
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
	if _, joined := state(); joined != 0 {
		t.Errorf("%d waiting after the waits", joined)
	}
}
