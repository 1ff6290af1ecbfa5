package testharness

import (
	"runtime"
	"testing"
	"time"
)

// ReturnBound is how long Work waits for the call it measures. It is a
// bound on a hang, not a speed target: a loaded 2-core machine running the
// suite under -race must never reach it. Speed targets are benchmarks.
const ReturnBound = time.Minute

// Allocated is what a call allocated on the Go heap: bytes and objects,
// all of them, kept or not. It is the measure of work tests assert instead
// of wall-clock time, which a busy machine stretches.
type Allocated struct {
	Bytes   uint64
	Objects uint64
}

// Work runs fn and returns what it allocated; the test fails if fn has not
// returned within ReturnBound. Other goroutines' allocations count too, so
// a test measuring work does not run in parallel with others.
func Work(t testing.TB, fn func()) Allocated {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(ReturnBound):
		t.Fatalf("the call did not return within %v", ReturnBound)
	}
	runtime.ReadMemStats(&after)
	return Allocated{Bytes: after.TotalAlloc - before.TotalAlloc, Objects: after.Mallocs - before.Mallocs}
}
