package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WaitDurable held the connection of the transaction it waited for until
// the flush returned: with the service's four pooled connections, every
// approval kept one of them for a WAL flush of its own, the pool could
// hand out no more than four approvals per disk sync, and any other
// commit's flush (the notifications' fan-out) held every waiting approval
// back by one more (BENCHMARKS.md, approvals with a publisher).
//
// SharedFlush waits for many commits with one flush: a transaction that
// committed with QueueEarlyRelease releases its connection, then calls
// Wait, which joins the next flush not yet begun; one flush at a time runs,
// on a connection of its own (taken from the pool, it waited behind every
// request queued for a connection), and every commit that joined it is
// durable when it returns, since the WAL is flushed in order. What the
// caller is told is unchanged: committed means on disk.

// SharedFlush shares WAL flush waits among the commits of a process. The
// zero value is ready; it must not be copied after first use.
type SharedFlush struct {
	mu      sync.Mutex
	next    *flushRound   // the flush the next waiters join; not begun
	running bool          // a goroutine is running flushes
	wake    chan struct{} // a waiter joined while the goroutine idled
	flushes atomic.Int64

	beforeFlush func() // tests: runs before each flush begins
}

// flushRound is one flush and the commits waiting for it.
type flushRound struct {
	done   chan struct{}
	err    error
	joined int // waiters, under SharedFlush.mu
}

const (
	// sharedFlushTimeout bounds one flush; its waiters are told its error.
	sharedFlushTimeout = 30 * time.Second
	// sharedFlushIdle is how long the flushing connection is kept once
	// nobody waits: an office that acts every few seconds does not
	// connect for each action.
	sharedFlushIdle = 5 * time.Second
)

// Wait returns once every transaction committed on pool's cluster before
// it was called is as durable as the server makes a commit (at the
// synchronous_commit of pool's connections). Call it after the commit
// returned, holding no connection. An error means the commit may not be
// durable; the caller answers as for a commit whose result it did not
// learn. A SharedFlush serves one pool: its connection is opened with
// the configuration of the pool of the Wait that started it.
func (f *SharedFlush) Wait(ctx context.Context, pool *pgxpool.Pool) error {
	f.mu.Lock()
	if f.next == nil {
		f.next = &flushRound{done: make(chan struct{})}
	}
	r := f.next
	r.joined++
	if f.wake == nil {
		f.wake = make(chan struct{}, 1)
	}
	if !f.running {
		f.running = true
		go f.run(pool.Config().ConnConfig)
	} else {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		if r.err != nil {
			return fmt.Errorf("wait for the commit to be durable: %w", r.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the commit to be durable: %w", ctx.Err())
	}
}

// Flushes is how many flushes the waits have made so far.
func (f *SharedFlush) Flushes() int64 { return f.flushes.Load() }

// run makes one flush after another while commits wait: each flush begins
// after every waiter of its round joined, so it covers their commits. It
// returns, closing its connection, once nobody waited for sharedFlushIdle.
func (f *SharedFlush) run(cc *pgx.ConnConfig) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = conn.Close(ctx)
		}
	}()
	idle := time.NewTimer(sharedFlushIdle)
	defer idle.Stop()
	for {
		f.mu.Lock()
		r := f.next
		f.next = nil
		f.mu.Unlock()
		if r == nil {
			idle.Reset(sharedFlushIdle)
			select {
			case <-f.wake:
				continue
			case <-idle.C:
			}
			f.mu.Lock()
			if f.next == nil {
				f.running = false
				f.mu.Unlock()
				return
			}
			f.mu.Unlock()
			continue
		}
		if f.beforeFlush != nil {
			f.beforeFlush()
		}
		// No waiter's context: one waiter giving up must not fail the
		// others' flush.
		ctx, cancel := context.WithTimeout(context.Background(), sharedFlushTimeout)
		var err error
		if conn == nil {
			conn, err = pgx.ConnectConfig(ctx, cc)
			if err != nil {
				conn = nil
			}
		}
		if err == nil {
			if err = WaitDurable(ctx, conn); err != nil {
				_ = conn.Close(ctx) // a broken connection is not kept
				conn = nil
			}
		}
		cancel()
		r.err = err
		f.flushes.Add(1)
		close(r.done)
	}
}
