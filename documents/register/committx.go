package register

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vanthu/vanthu/documents"
)

// This file owns the issue's transaction: a pgx.Tx on a connection of its
// own whose COMMIT can travel at the end of its last batch (queueCommit),
// so that after the seal's signature the issue's writes and its commit are
// one round trip. pgx's own transaction cannot: its Commit sends "commit"
// itself, and its Rollback "rollback" unless pgx ended it, each a round
// trip more (and a warning in PostgreSQL's log) after a COMMIT in a batch.
// Nothing else in the service needs this yet; a generic storage helper
// would take its place.

// issueTx is a transaction on conn, begun by beginIssueTx.
type issueTx struct {
	conn *pgxpool.Conn
	// committed: a COMMIT queued by queueCommit answered COMMIT.
	committed bool
	released  bool
}

var _ pgx.Tx = (*issueTx)(nil)

// beginIssueTx begins a transaction on a connection of pool and, in the
// same round trip, sends the statements queue adds to the batch; their
// callbacks read their results in order. On success the caller owns tx
// (Commit or Rollback, which also give the connection back).
func beginIssueTx(ctx context.Context, pool *pgxpool.Pool, queue func(b *pgx.Batch)) (*issueTx, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	tx := &issueTx{conn: conn}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	queue(b)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// queueCommit queues the transaction's COMMIT at the end of b: once b is
// sent without error, the transaction is committed, and Commit only gives
// the connection back. If a statement of b fails, PostgreSQL skips the
// rest of the batch, COMMIT with it, and the transaction is rolled back by
// Rollback. Nothing may be queued after it.
func (t *issueTx) queueCommit(b *pgx.Batch) {
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return pgx.ErrTxCommitRollback
		}
		t.committed = true
		return nil
	})
}

// Commit commits the transaction, unless its last batch did
// (queueCommit), and gives the connection back.
func (t *issueTx) Commit(ctx context.Context) error {
	if t.released {
		return pgx.ErrTxClosed
	}
	if t.committed && t.conn.Conn().PgConn().TxStatus() == 'I' {
		t.release()
		return nil
	}
	ct, err := t.conn.Exec(ctx, "COMMIT")
	t.release()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if ct.String() != "COMMIT" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback rolls the transaction back unless it is over (committed or
// never begun), and gives the connection back; it may be called again.
func (t *issueTx) Rollback(ctx context.Context) error {
	if t.released {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if t.conn.Conn().PgConn().TxStatus() == 'I' {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "ROLLBACK"); err != nil {
		// The connection is in an unknown state: the pool closes it
		// rather than lend it again.
		t.conn.Conn().Close(ctx)
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// release gives the connection back to the pool, which closes it instead
// when it is still inside a transaction.
func (t *issueTx) release() {
	if !t.released {
		t.released = true
		t.conn.Release()
	}
}

// Begin would begin a nested transaction; the issue never uses one.
func (t *issueTx) Begin(ctx context.Context) (pgx.Tx, error) {
	return nil, errors.New("issue transaction: nested transactions are not supported")
}

func (t *issueTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, columns, src)
}

func (t *issueTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

// LargeObjects is not supported: the issue stores no large object.
func (t *issueTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *issueTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Conn().Prepare(ctx, name, sql)
}

func (t *issueTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}

func (t *issueTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

func (t *issueTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *issueTx) Conn() *pgx.Conn { return t.conn.Conn() }

// queueVersionIs queues, in a batch that commits, the check that the
// version it inserts is numbered v.Number (the next after the latest read
// under the document's lock): a version numbered otherwise divides by
// zero, and PostgreSQL skips the rest of the batch, its COMMIT with it.
// Without a commit in the batch, the number it returns is checked after.
func queueVersionIs(b *pgx.Batch, v documents.Version) {
	b.Queue(`SELECT 1 / count(*)::int FROM document_versions WHERE document_id = $1 AND number = $2 AND blob_key = $3`,
		v.DocumentID, v.Number, v.SHA256)
}

// isVersionMismatch is queueVersionIs's refusal.
func isVersionMismatch(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22012" // division_by_zero
}
