package testharness

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RoundTrips counts what a pool sends to PostgreSQL: each query and each
// batch is one round trip; Statements counts every statement, batched or
// not. Tests of how often a workflow waits for the database assert these
// counts (work done, never time taken).
type RoundTrips struct {
	mu                sync.Mutex
	trips, statements int
	sql               []string
	wakeUps           int
}

// TracedPool opens a pool to the database of pool's configuration whose
// round trips it counts; the pool closes when the test ends.
func TracedPool(t testing.TB, pool *pgxpool.Pool) (*pgxpool.Pool, *RoundTrips) {
	t.Helper()
	c := &RoundTrips{}
	cfg := pool.Config()
	cfg.ConnConfig.Tracer = c
	traced, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(traced.Close)
	return traced, c
}

// Counts are the round trips and statements since the last Reset.
func (c *RoundTrips) Counts() (trips, statements int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trips, c.statements
}

// WakeUps are the round trips (each one statement) River makes after
// inserting jobs to wake its workers at once (pg_notify), at most once per
// queue per fetch cooldown (100 ms), whatever the number of jobs; they are
// included in Counts.
func (c *RoundTrips) WakeUps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wakeUps
}

// Reset starts counting again.
func (c *RoundTrips) Reset() {
	c.mu.Lock()
	c.trips, c.statements, c.sql, c.wakeUps = 0, 0, nil, 0
	c.mu.Unlock()
}

// String lists the statements sent since the last Reset, a batch's
// indented, for a failure to show.
func (c *RoundTrips) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.sql, "\n")
}

func (c *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	c.trips++
	c.statements++
	c.sql = append(c.sql, firstWords(d.SQL))
	if strings.Contains(d.SQL, "pg_notify(") && strings.Contains(d.SQL, "PGNotifyMany") {
		c.wakeUps++
	}
	c.mu.Unlock()
	return ctx
}

func (c *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *RoundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	c.trips++
	c.statements += d.Batch.Len()
	for _, q := range d.Batch.QueuedQueries {
		c.sql = append(c.sql, "  (batch) "+firstWords(q.SQL))
	}
	c.mu.Unlock()
	return ctx
}

func (c *RoundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *RoundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func firstWords(sql string) string {
	f := strings.Fields(sql)
	return strings.Join(f[:min(len(f), 6)], " ")
}
