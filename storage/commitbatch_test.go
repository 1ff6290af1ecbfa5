package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

// TestCommitBatch: a transaction begun by BeginBatch commits with its
// last batch in one round trip and gives its connection back; a statement
// that fails rolls the whole transaction back and is the error returned;
// a callback that refuses after the commit says the transaction
// committed; any other transaction is sent, then committed.
func TestCommitBatch(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, "CREATE TABLE commit_probe (n int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	pool, c := testharness.TracedPool(t, db.Pool)
	count := func(n int) int {
		var got int
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM commit_probe WHERE n = $1", n).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	begin := func() pgx.Tx {
		tx, err := storage.BeginBatch(ctx, pool, func(b *pgx.Batch) { b.Queue("INSERT INTO commit_probe VALUES (0) ON CONFLICT DO NOTHING") })
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	idle := func(step string) {
		t.Helper()
		if n := pool.Stat().AcquiredConns(); n != 0 {
			t.Errorf("%s: %d connections still held", step, n)
		}
	}

	c.Reset()
	tx := begin()
	b := &pgx.Batch{}
	b.Queue("INSERT INTO commit_probe VALUES (1)")
	b.Queue("INSERT INTO commit_probe VALUES (2)")
	if err := storage.CommitBatch(ctx, tx, b); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		t.Errorf("rollback after the commit: %v", err)
	}
	// Its connection is the pool's again: the transaction refuses
	// statements, sending nothing.
	if _, err := tx.Exec(ctx, "SELECT 1"); !errors.Is(err, pgx.ErrTxClosed) {
		t.Errorf("exec after the commit: %v", err)
	}
	if err := tx.QueryRow(ctx, "SELECT 1").Scan(new(int)); !errors.Is(err, pgx.ErrTxClosed) {
		t.Errorf("query after the commit: %v", err)
	}
	if err := tx.SendBatch(ctx, &pgx.Batch{}).Close(); !errors.Is(err, pgx.ErrTxClosed) {
		t.Errorf("batch after the commit: %v", err)
	}
	if trips, statements := c.Counts(); trips != 2 || statements != 5 {
		t.Errorf("%d round trips, %d statements, want 2 and 5 (begin, insert; two inserts, commit):\n%s", trips, statements, c)
	}
	if count(1) != 1 || count(2) != 1 {
		t.Error("the batch's rows were not committed")
	}
	if b.Len() != 2 {
		t.Errorf("the batch has %d statements after, want its own 2", b.Len())
	}
	idle("committed")

	tx = begin()
	b = &pgx.Batch{}
	b.Queue("INSERT INTO commit_probe VALUES (3)")
	b.Queue("INSERT INTO commit_probe VALUES (1)") // taken
	b.Queue("INSERT INTO commit_probe VALUES (4)")
	err := storage.CommitBatch(ctx, tx, b)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Errorf("a failing statement: %v, want its unique violation", err)
	}
	if count(3) != 0 || count(4) != 0 {
		t.Error("a failed batch committed rows")
	}
	idle("failed")

	tx = begin()
	b = &pgx.Batch{}
	b.Queue("SELECT 5").QueryRow(func(pgx.Row) error { return errors.New("refused") })
	b.Queue("INSERT INTO commit_probe VALUES (5)")
	if err := storage.CommitBatch(ctx, tx, b); !errors.Is(err, storage.ErrCommittedAnyway) {
		t.Errorf("a callback's refusal: %v", err)
	}
	if count(5) != 1 {
		t.Error("the batch a callback refused did not commit, yet was said to")
	}
	idle("refused by a callback")

	// Another transaction: sent, then committed.
	ptx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b = &pgx.Batch{}
	b.Queue("INSERT INTO commit_probe VALUES (6)")
	if err := storage.CommitBatch(ctx, ptx, b); err != nil {
		t.Fatal(err)
	}
	if count(6) != 1 {
		t.Error("a pool transaction's batch was not committed")
	}
	idle("pool transaction")

	// The pool's connections work after all this.
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}
