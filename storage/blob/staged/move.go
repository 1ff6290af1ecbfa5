package staged

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/vanthu/vanthu/storage/blob"
)

// Queue is the job queue the moves go through, apart from the
// notification engine's (each River client works only its own queues).
const Queue = "blob_moves"

// moveArgs is the job that moves one staged update into the blob store,
// or, with Onto instead of Key, every update staged onto that base (a job
// inserted before its update's key is known: InsertMoveOnto).
type moveArgs struct {
	Key  string `json:"key,omitempty"`
	Onto string `json:"onto,omitempty"`
}

func (moveArgs) Kind() string { return "blob_move" }

// InsertOpts puts the job on the movers' queue; a move waits for MinIO as
// long as it takes (the row keeps the bytes readable meanwhile), so it is
// tried many times.
func (moveArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1000}
}

type moveWorker struct {
	river.WorkerDefaults[moveArgs]
	s *Store
}

func (w *moveWorker) Work(ctx context.Context, job *river.Job[moveArgs]) error {
	if job.Args.Key == "" {
		return w.s.moveOnto(ctx, job.Args.Onto, job.Attempt > 1)
	}
	return w.s.move(ctx, job.Args.Key, job.Attempt > 1, 0)
}

// Timeout bounds one move: a PUT of at most MaxTail bytes to a store on
// the same network.
func (w *moveWorker) Timeout(*river.Job[moveArgs]) time.Duration { return time.Minute }

type backoffPolicy struct{ backoff func(int) time.Duration }

func (p backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.backoff(job.Attempt))
}

func newClient(s *Store, queue *pgxpool.Pool, opts Options) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &moveWorker{s: s})
	client, err := river.NewClient(riverpgxv5.New(queue), &river.Config{
		Queues:                 map[string]river.QueueConfig{Queue: {MaxWorkers: 4}},
		Workers:                workers,
		RetryPolicy:            backoffPolicy{opts.Backoff},
		FetchPollInterval:      opts.PollInterval,
		LeaderElectionDisabled: !opts.Lead,
		RescueStuckJobsAfter:   2 * time.Minute,
		Logger:                 slog.Default(),
	})
	if err != nil {
		return nil, fmt.Errorf("staged blobs: job queue: %w", err)
	}
	return client, nil
}

// Start runs the mover until Stop; staged updates left by a process that
// stopped or crashed before moving them are moved first (their jobs are
// in the queue).
func (s *Store) Start(ctx context.Context) error {
	if err := s.client.Start(ctx); err != nil {
		return fmt.Errorf("staged blobs: mover: %w", err)
	}
	return nil
}

// Stop lets moves under way finish until ctx ends, then cancels them (a
// cancelled move is tried again after the next start), and closes the
// queue's connections.
func (s *Store) Stop(ctx context.Context) error {
	err := s.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.client.StopAndCancel(cctx)
	}
	s.queue.Close()
	if err != nil {
		return fmt.Errorf("staged blobs: mover stop: %w", err)
	}
	return nil
}

// maxBaseDepth bounds how many staged bases one move moves first.
const maxBaseDepth = 32

// move puts key's staged update into the blob store and deletes its row;
// a key with no row is done already. A base that is staged too is moved
// first (the store builds an appended blob on a stored base). again: an
// earlier attempt may have stored it already, so the store is asked first
// and the PUT not repeated.
func (s *Store) move(ctx context.Context, key string, again bool, depth int) error {
	r, ok, err := s.lookup(ctx, key)
	if err != nil || !ok {
		return err
	}
	if err := r.check(); err != nil {
		// Checked when staged: bytes changed since are not stored; the
		// row stays for someone to look at, and the job stops.
		return river.JobCancel(fmt.Errorf("staged update %s: %w", key, err))
	}
	if depth < maxBaseDepth {
		if err := s.move(ctx, r.BaseKey, again, depth+1); err != nil {
			return err
		}
	}
	stored := false
	if again {
		if info, err := s.Store.Stat(ctx, key); err == nil && info.Size == r.Size() {
			stored = true
		}
	}
	if !stored {
		if err := s.put(ctx, r); err != nil {
			return err
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM staged_blobs WHERE key = $1`, key); err != nil {
		return fmt.Errorf("staged update %s: moved, row not deleted: %w", key, err)
	}
	return nil
}

// moveOnto moves every update staged onto base (none: done).
func (s *Store) moveOnto(ctx context.Context, base string, again bool) error {
	rows, err := s.pool.Query(ctx, `SELECT key FROM staged_blobs WHERE base_key = $1`, base)
	if err != nil {
		return fmt.Errorf("staged updates onto %s: %w", base, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("staged updates onto %s: %w", base, err)
	}
	for _, key := range keys {
		if err := s.move(ctx, key, again, 0); err != nil {
			return err
		}
	}
	return nil
}

// put stores r: its update alone on its base (blob.TailPutter), or the
// whole file when the store cannot build on the base.
func (s *Store) put(ctx context.Context, r row) error {
	if tp, ok := s.Store.(blob.TailPutter); ok {
		_, err := tp.PutTail(ctx, r.Key, r.BaseKey, r.BaseSize, r.Tail, r.Until)
		if err == nil || !errors.Is(err, blob.ErrNeedWhole) {
			if err != nil {
				return fmt.Errorf("staged update %s: %w", r.Key, err)
			}
			return nil
		}
	}
	whole, err := s.readWhole(ctx, r)
	if err != nil {
		return err
	}
	if _, err := s.PutKnown(ctx, r.Key, whole, r.Until); err != nil {
		return fmt.Errorf("staged update %s: %w", r.Key, err)
	}
	return nil
}

// readWhole reads the whole file of a staged update: its base from the
// store, its tail from the row.
func (s *Store) readWhole(ctx context.Context, r row) ([]byte, error) {
	rc, err := s.openStaged(ctx, r, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	whole := make([]byte, r.Size())
	if _, err := io.ReadFull(rc, whole); err != nil {
		return nil, fmt.Errorf("staged update %s: read: %w", r.Key, err)
	}
	return whole, nil
}
