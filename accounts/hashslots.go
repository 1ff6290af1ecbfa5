package accounts

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vanthu/vanthu/metrics"
)

// ErrBusy is the answer when every password-hashing slot is taken and the
// queue for them is full: the caller should try again shortly (HTTP 503
// with Retry-After). A login refused this way is not counted as a failure.
var ErrBusy = errors.New("too many logins at once; try again in a moment")

// HashSlots bounds the argon2id hashes run at once. Each costs argonMemory
// (64 MiB) and a core for tens of milliseconds, and logging in needs no
// authentication, so without a bound a burst of logins takes the machine's
// memory and starves every other request. A few hashes run; a short queue
// waits for them; anything beyond is refused at once with ErrBusy.
type HashSlots struct {
	slots    chan struct{}
	admitted atomic.Int64 // running plus waiting
	limit    int64        // slots plus queue

	mu          sync.Mutex
	running     int
	maxRunning  int
	maxAdmitted int64
}

// defaultHashQueue is how many logins wait for a slot: about as long as a
// few hashes take, well under a client's patience.
const defaultHashQueue = 8

// NewHashSlots lets slots hashes run at once and queue more wait for one
// (at least one slot; a negative queue is none).
func NewHashSlots(slots, queue int) *HashSlots {
	slots, queue = max(slots, 1), max(queue, 0)
	return &HashSlots{slots: make(chan struct{}, slots), limit: int64(slots + queue)}
}

// defaultSlots runs as many hashes at once as the cores can run without
// waiting (each hash uses argonThreads of them), at least one: more only
// adds memory (64 MiB each), not speed.
func defaultSlots() *HashSlots {
	return NewHashSlots(runtime.GOMAXPROCS(0)/argonThreads, defaultHashQueue)
}

// Enter takes a place among the running and waiting hashes, or answers
// ErrBusy at once when there is none. The place must be left with the
// returned function, after Run or instead of it.
func (h *HashSlots) Enter() (leave func(), err error) {
	n := h.admitted.Add(1)
	if n > h.limit {
		h.admitted.Add(-1)
		return nil, ErrBusy
	}
	h.mu.Lock()
	h.maxAdmitted = max(h.maxAdmitted, n)
	h.mu.Unlock()
	metrics.PasswordHashesWaiting(int(n))
	var once sync.Once
	return func() { once.Do(func() { metrics.PasswordHashesWaiting(int(h.admitted.Add(-1))) }) }, nil
}

// Run waits for a slot (or the end of ctx) and runs fn in it.
func (h *HashSlots) Run(ctx context.Context, fn func()) error {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	h.running++
	h.maxRunning = max(h.maxRunning, h.running)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running--
		h.mu.Unlock()
		<-h.slots
	}()
	fn()
	return nil
}

// Do enters, runs fn and leaves: the whole of one bounded hash.
func (h *HashSlots) Do(ctx context.Context, fn func()) error {
	leave, err := h.Enter()
	if err != nil {
		return err
	}
	defer leave()
	return h.Run(ctx, fn)
}

// HashStats are what HashSlots saw: the most hashes that ran at once and
// the most requests that held a place (running or waiting) at once.
type HashStats struct {
	MaxRunning, MaxAdmitted int
	Running, Admitted       int
}

// Stats reports the high-water marks and the current counts.
func (h *HashSlots) Stats() HashStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HashStats{MaxRunning: h.maxRunning, MaxAdmitted: int(h.maxAdmitted), Running: h.running, Admitted: int(h.admitted.Load())}
}
