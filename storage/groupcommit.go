package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Every audited transaction appends to the audit log at its commit, under
// the log's one append lock (migration 00020), and PostgreSQL releases a
// transaction's locks only after its commit record is flushed to disk. On
// a durable cluster every audited commit therefore waited for its own WAL
// flush while every other audited commit of the service waited for the
// lock: the commits were flushed one at a time, never together, and the
// service could not commit faster than its disk syncs (BENCHMARKS.md,
// approvals on a durable cluster).
//
// A transaction that queues QueueEarlyRelease into its batch commits
// without waiting for the flush, so the lock is released as soon as the
// commit record is written; the caller then calls WaitDurable on the same
// connection before it tells anyone the transaction committed. The flush
// WaitDurable waits for is shared by every transaction committed
// meanwhile (group commit), and no lock is held while waiting. What the
// caller is told is unchanged: committed means on disk. The log's order is
// unchanged too: a crash can lose only a suffix of the WAL, so a
// transaction that read another's effects is never kept without it.

// earlyReleaseSQL lets the transaction's commit return before its WAL is
// flushed (for this transaction only).
const earlyReleaseSQL = "SET LOCAL synchronous_commit = off"

// QueueEarlyRelease queues into a transaction's batch the setting that
// lets its commit release its locks before its WAL is flushed. The caller
// must call WaitDurable on the same connection once the commit returned,
// before it answers.
func QueueEarlyRelease(b *pgx.Batch) { b.Queue(earlyReleaseSQL) }

// waitDurableSQL commits a transaction of its own that writes one small
// WAL record (a transactional logical message, which takes a transaction
// id; no table is written), so that its commit is flushed at the session's
// synchronous_commit level: the WAL is flushed in order, so once it
// returns every transaction this session committed before is as durable
// as the server is configured to make a commit. (A transaction that only
// takes an id writes no WAL before its commit record, and PostgreSQL does
// not wait for such a commit's flush.)
const waitDurableSQL = "SELECT pg_logical_emit_message(true, 'vanthu.durable', '')"

// WaitDurable returns once the transactions this connection committed
// with QueueEarlyRelease are durable. Call it outside any transaction. An
// error means the commit may not be durable; the caller answers as for a
// commit whose result it did not learn.
func WaitDurable(ctx context.Context, conn Querier) error {
	if _, err := conn.Exec(ctx, waitDurableSQL); err != nil {
		return fmt.Errorf("wait for the commit to be durable: %w", err)
	}
	return nil
}
