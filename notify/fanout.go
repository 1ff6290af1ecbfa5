package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// asyncCommitSQL lets a transaction's commit return before its WAL is
// flushed.
const asyncCommitSQL = "SET LOCAL synchronous_commit = off"

// fanOutBatch is how many pending events one fan-out transaction tells:
// one statement for all of them, and their jobs in one River insert.
const fanOutBatch = 200

// FanOut tells the people of every event queued (Queue) and not told yet,
// in batches of up to fanOutBatch events: each batch, in one transaction,
// makes the events' notifications, queues their e-mail and webhook jobs
// and marks them told, so an event is told exactly once whether its batch
// commits or not (a crash, a cancelled context, a second engine fanning
// out at the same time: the events of a batch that did not commit stay
// pending for the next; those another fan-out holds are skipped). It
// returns how many events it told. A started engine runs it by itself;
// tests and tools may call it to tell at once.
func (e *Engine) FanOut(ctx context.Context) (int, error) {
	total := 0
	for {
		var due []dueEvent
		err := pgx.BeginFunc(ctx, e.queue, func(tx pgx.Tx) error {
			var b pgx.Batch
			// Its commit need not wait for its flush (see the queue's
			// connections, New): were it lost, its events would still be
			// pending. Set here as well, for a fan-out on any connection.
			b.Queue(asyncCommitSQL)
			queueFanOut(&b, nil, fanOutBatch, &due)
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
			return e.insertJobs(ctx, tx, due)
		})
		if err != nil {
			return total, fmt.Errorf("fan-out: %w", err)
		}
		total += len(due)
		if len(due) < fanOutBatch {
			return total, nil
		}
	}
}

// wakeFanOut tells this process's fan-out that an event was queued; it
// never blocks (one wake-up pending is enough).
func (e *Engine) wakeFanOut() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// fanOutLoop runs FanOut at once (events left pending by a previous run
// or another process), then a short while after each wake-up (the waking
// transaction has not committed yet, and the events of the moments after
// it join the same batch), and every FanOutEvery besides (events queued
// by other processes, a wake-up that came before its commit).
func (e *Engine) fanOutLoop(ctx context.Context) {
	defer close(e.fanOutDone)
	tick := time.NewTicker(e.cfg.FanOutEvery)
	defer tick.Stop()
	for {
		if _, err := e.FanOut(ctx); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
			slog.Warn("notifications fan-out failed; retried at the next turn", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-e.wake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(e.cfg.FanOutDelay):
			}
		}
	}
}
