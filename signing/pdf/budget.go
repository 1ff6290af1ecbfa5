package pdf

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultBudget is the decoded stream data one verification may hold in
// memory at once when no budget is given.
const DefaultBudget = 64 << 20

// ErrBudget is wrapped by every error that refuses decoded data for want of
// memory budget, so callers can tell a decompression bomb (or a file too
// large for the budget) from a damaged stream.
var ErrBudget = errors.New("memory budget for decoded data exceeded")

// BudgetError says which budget refused how many bytes.
type BudgetError struct {
	Limit  int64 // the budget that refused, in bytes
	Held   int64 // bytes it held when it refused
	Need   int64 // bytes asked for
	Shared bool  // the process-wide budget refused, not the file's own
}

func (e *BudgetError) Error() string {
	if e.Shared {
		return fmt.Sprintf("%v: the service's shared budget of %d bytes is in use by other verifications (%d held, %d more needed)", ErrBudget, e.Limit, e.Held, e.Need)
	}
	return fmt.Sprintf("%v: the budget of %d bytes does not hold %d more (%d held)", ErrBudget, e.Limit, e.Need, e.Held)
}

func (e *BudgetError) Unwrap() error { return ErrBudget }

// Budget counts the decoded stream bytes held in memory against a limit.
// Bytes are reserved before they are allocated and released when the data
// is no longer used, so a decompression bomb stops at the limit with an
// error instead of an allocation. A budget made by Sub also draws every
// byte from its parent: the service gives each verification its own budget
// under one process-wide budget shared by all of them.
//
// A Budget is safe for concurrent use.
type Budget struct {
	limit  int64
	parent *Budget
	wait   time.Duration // how long Reserve waits for the parent to free bytes

	mu       sync.Mutex
	held     int64
	peak     int64
	total    int64         // bytes ever reserved
	freed    chan struct{} // closed when bytes are released, for waiters
	refusal  error         // the first refusal
	refusals int
}

// NewBudget returns a budget of limit bytes (DefaultBudget if limit <= 0).
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		limit = DefaultBudget
	}
	return &Budget{limit: limit, freed: make(chan struct{})}
}

// Sub returns a budget of limit bytes (DefaultBudget if limit <= 0) whose
// every byte is also reserved from b. When b is exhausted by others, a
// reservation waits up to wait for them to release bytes before it is
// refused; the wait is bounded because two verifications each waiting for
// the other's bytes would otherwise wait forever. A nil b gives a budget
// of its own.
func (b *Budget) Sub(limit int64, wait time.Duration) *Budget {
	s := NewBudget(limit)
	if b != nil {
		s.parent = b
		s.wait = wait
	}
	return s
}

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Held is the number of bytes reserved and not yet released.
func (b *Budget) Held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held
}

// Peak is the most bytes held at once.
func (b *Budget) Peak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Total is the number of bytes ever reserved: the decoding work done.
func (b *Budget) Total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// Refusal is the first refused reservation (nil if none) and how many were
// refused.
func (b *Budget) Refusal() (error, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusal, b.refusals
}

// Reserve accounts n more bytes, or refuses them with a *BudgetError.
func (b *Budget) Reserve(n int64) error { return b.reserve(n, true) }

// reserve is Reserve; a try (final false) neither waits for the parent
// nor records its refusal, for a caller that can free bytes of its own and
// ask again.
func (b *Budget) reserve(n int64, final bool) error {
	if n <= 0 {
		return nil
	}
	b.mu.Lock()
	if b.held+n > b.limit {
		err := &BudgetError{Limit: b.limit, Held: b.held, Need: n}
		if final {
			b.refuse(err)
		}
		b.mu.Unlock()
		return err
	}
	b.held += n
	b.mu.Unlock()
	if b.parent != nil {
		wait := b.wait
		if !final {
			wait = 0
		}
		if err := b.parent.reserveWaiting(n, wait, final); err != nil {
			b.mu.Lock()
			b.held -= n
			if final {
				b.refuse(err)
			}
			b.mu.Unlock()
			return err
		}
	}
	b.mu.Lock()
	b.total += n
	b.peak = max(b.peak, b.held)
	b.mu.Unlock()
	return nil
}

func (b *Budget) refuse(err error) {
	if b.refusal == nil {
		b.refusal = err
	}
	b.refusals++
}

// reserveWaiting reserves n bytes of a shared budget, waiting up to wait
// for other holders to release enough.
func (b *Budget) reserveWaiting(n int64, wait time.Duration, record bool) error {
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.held+n <= b.limit {
			b.held += n
			b.total += n
			b.peak = max(b.peak, b.held)
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		err := &BudgetError{Limit: b.limit, Held: b.held, Need: n, Shared: true}
		if n > b.limit || wait <= 0 {
			if record {
				b.refuse(err)
			}
			b.mu.Unlock()
			return err
		}
		freed := b.freed
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		select {
		case <-freed:
		case <-timer.C:
			if record {
				b.mu.Lock()
				b.refuse(err)
				b.mu.Unlock()
			}
			return err
		}
	}
}

// Release returns n bytes to the budget (and to its parent).
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	n = min(n, b.held) // never below zero, whatever a caller does
	b.held -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
	if b.parent != nil {
		b.parent.Release(n)
	}
}
