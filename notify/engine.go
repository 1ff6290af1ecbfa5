package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// Config is what the engine needs besides the database.
type Config struct {
	// Mail is the SMTP server notifications and issued documents go
	// through; an empty Addr sends no e-mail (the jobs wait and retry).
	Mail MailConfig
	// Blobs holds the documents' files (the sealed PDF of an issued
	// document is attached to its e-mail).
	Blobs blob.Store
	// Now is the clock of reminders; nil: time.Now.
	Now func() time.Time
	// Backoff is how long the nth failed attempt of a job waits before the
	// next; nil: DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// Deadlines are the sources of reminders; ReminderEvery is how often
	// they are scanned (zero: every 15 minutes). EscalateAfter is the
	// number of overdue working days after which the unit head is told too
	// (zero: 2).
	Deadlines     []Deadlines
	ReminderEvery time.Duration
	EscalateAfter int
	// WebhookClient sends webhooks; nil: a client with a 15 s timeout
	// whose dialer refuses private and loopback addresses unless the
	// endpoint was allowed them.
	WebhookClient *http.Client
	// Workers is how many jobs run at once (zero: 10).
	Workers int
	// PollInterval is how often the queue is polled besides the
	// notifications PostgreSQL sends (zero: River's default).
	PollInterval time.Duration
	// QueueConns is how many connections the job queue's own work
	// (listening, fetching, completing, electing its leader) may hold, in
	// a pool of its own beside the service's (zero: 3). On the service's
	// pool it took connections the requests were waiting for: with four,
	// 200 people approving at 500/s fell behind (BENCHMARKS.md). The
	// fan-out of queued events uses it too.
	QueueConns int
	// FanOutDelay is how long the fan-out waits after an event was queued
	// before telling its people (zero: 50 ms): the queuing transaction
	// commits meanwhile and the events of the next moments join the same
	// batch. FanOutEvery is how often it looks for pending events besides
	// (zero: every second): those queued by other processes.
	FanOutDelay time.Duration
	FanOutEvery time.Duration
}

// Engine publishes events and runs the jobs they cause.
type Engine struct {
	db     *storage.DB
	cfg    Config
	client *river.Client[pgx.Tx]
	queue  *pgxpool.Pool // the job queue's own connections; closed by Stop
	mail   *mailSessions // SMTP sessions kept between notification e-mails

	wake       chan struct{}      // an event was queued (Queue): fan out soon
	stopFanOut context.CancelFunc // set by Start
	fanOutDone chan struct{}      // closed when the fan-out loop returned
}

// DefaultBackoff doubles from 10 seconds up to an hour.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// New builds the engine over db. It can publish at once; jobs run between
// Start and Stop.
func New(db *storage.DB, cfg Config) (*Engine, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.ReminderEvery <= 0 {
		cfg.ReminderEvery = 15 * time.Minute
	}
	if cfg.EscalateAfter <= 0 {
		cfg.EscalateAfter = 2
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.WebhookClient == nil {
		cfg.WebhookClient = webhookClient()
	}
	if cfg.QueueConns <= 0 {
		cfg.QueueConns = 3
	}
	if cfg.FanOutDelay <= 0 {
		cfg.FanOutDelay = 50 * time.Millisecond
	}
	if cfg.FanOutEvery <= 0 {
		cfg.FanOutEvery = time.Second
	}
	// The same database and credentials as the service's pool; connected
	// on first use (Start), so an engine that only publishes opens none.
	pc := db.Pool.Config()
	pc.MaxConns, pc.MinConns = int32(cfg.QueueConns), 0
	// The queue's own commits (a job fetched, completed, the leader
	// elected, the fan-out's batches) return without waiting for their
	// WAL flush: on a durable cluster each waited for a disk sync of its
	// own, and the approvals committed behind them waited for it too. A
	// crash loses at most the last of them, and only after every commit
	// the service told anyone of (the WAL is flushed in order): a lost
	// fetch or completion runs its job again (jobs are at least once), a
	// lost fan-out leaves its events pending for the next (its effects and
	// the events' pending = NULL are one transaction; a notification made
	// again has the same id). Any durable commit after one of them (a
	// request of the service) flushes it too. The events themselves, and
	// the jobs a request queues (InsertTx), commit in the request's
	// transaction, never on these connections, as durably as their cause.
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	pc.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	queue, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("job queue pool: %w", err)
	}
	e := &Engine{db: db, cfg: cfg, queue: queue, mail: newMailSessions(cfg.Workers), wake: make(chan struct{}, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, &emailWorker{e: e})
	river.AddWorker(workers, &deliveryEmailWorker{e: e})
	river.AddWorker(workers, &webhookWorker{e: e})
	river.AddWorker(workers, &reminderScanWorker{e: e})
	river.AddWorker(workers, &reminderWorker{e: e})
	river.AddWorker(workers, &reminderBatchWorker{e: e})
	client, err := river.NewClient(riverpgxv5.New(queue), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		RetryPolicy:       backoffPolicy{e: e},
		FetchPollInterval: cfg.PollInterval,
		Logger:            slog.Default(),
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.ReminderEvery),
			func() (river.JobArgs, *river.InsertOpts) { return reminderScanArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})},
	})
	if err != nil {
		queue.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	e.client = client
	return e, nil
}

// Start runs the jobs and the fan-out of queued events until Stop; it
// returns once the workers started.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.client.Start(ctx); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	fctx, cancel := context.WithCancel(ctx)
	e.stopFanOut, e.fanOutDone = cancel, make(chan struct{})
	go e.fanOutLoop(fctx)
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them (a
// cancelled job is retried after the next start).
func (e *Engine) Stop(ctx context.Context) error {
	if e.stopFanOut != nil {
		// A fan-out cut short rolls back: its events stay pending for the
		// next start.
		e.stopFanOut()
		<-e.fanOutDone
	}
	err := e.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = e.client.StopAndCancel(cctx)
	}
	e.mail.close()
	if err != nil {
		return fmt.Errorf("job queue stop: %w", err)
	}
	e.queue.Close()
	return nil
}

// backoffPolicy retries a failed job after Config.Backoff.
type backoffPolicy struct{ e *Engine }

func (p backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.e.cfg.Backoff(job.Attempt))
}

// unique makes a job unique by its arguments for as long as it is kept,
// whatever its state: the same arguments are never queued twice.
var unique = river.UniqueOpts{ByArgs: true}
