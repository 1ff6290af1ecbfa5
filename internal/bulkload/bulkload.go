// Package bulkload fills a throwaway test database quickly for the
// benchmarks that need an office's worth of rows (a million inbox items or
// assignments): the tables' secondary indexes are dropped while the rows
// go in and built once afterwards, foreign keys are not checked row by
// row, and the tables are vacuumed, analysed and checkpointed so the
// planner and index-only scans see what a settled database would.
//
// It is for benchmark data generated consistently by the caller's SQL,
// never for user data: with foreign-key triggers off, nothing checks the
// rows the load inserts.
package bulkload

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Step is one statement of a load, with its arguments.
type Step struct {
	SQL  string
	Args []any
}

// Load runs steps on one connection of pool with the secondary indexes of
// tables dropped and foreign-key triggers off (session_replication_role
// replica: the test clusters connect as their superuser), then rebuilds
// the indexes and runs VACUUM ANALYZE on the tables. Primary keys and
// unique constraints stay: the load's own statements may join on them.
// A load that fails leaves the tables without their secondary indexes
// (the benchmark fails with it) and closes its connection, so nothing
// else runs with foreign keys unchecked.
func Load(ctx context.Context, pool *pgxpool.Pool, tables []string, steps []Step) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	defer func() {
		if err != nil {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}()
	rows, err := conn.Query(ctx, `
		SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = ANY (SELECT t::regclass FROM unnest($1::text[]) t)
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`, tables)
	if err != nil {
		return fmt.Errorf("bulk load: indexes: %w", err)
	}
	type index struct{ name, def string }
	indexes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (index, error) {
		var ix index
		err := row.Scan(&ix.name, &ix.def)
		return ix, err
	})
	if err != nil {
		return fmt.Errorf("bulk load: indexes: %w", err)
	}
	exec := func(what, sql string, args ...any) error {
		t0 := time.Now()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("bulk load: %s: %w\n%s", what, err, sql)
		}
		slog.Info("bulk load", "step", what, "took", time.Since(t0).Round(time.Millisecond))
		return nil
	}
	for _, ix := range indexes {
		if err := exec("drop "+ix.name, "DROP INDEX "+ix.name); err != nil {
			return err
		}
	}
	for _, s := range []string{"SET session_replication_role = replica", "SET maintenance_work_mem = '256MB'", "SET work_mem = '64MB'"} {
		if err := exec(s, s); err != nil {
			return err
		}
	}
	for i, s := range steps {
		if err := exec(fmt.Sprintf("step %d", i+1), s.SQL, s.Args...); err != nil {
			return err
		}
	}
	if err := exec("replication role", "SET session_replication_role = origin"); err != nil {
		return err
	}
	for _, ix := range indexes {
		if err := exec("create "+ix.name, ix.def); err != nil {
			return err
		}
	}
	if err := exec("vacuum", "VACUUM ANALYZE "+strings.Join(tables, ", ")); err != nil {
		return err
	}
	if err := exec("analyze", "ANALYZE"); err != nil {
		return err
	}
	// The load's dirty pages are written now, not while the benchmark
	// measures.
	if err := exec("checkpoint", "CHECKPOINT"); err != nil {
		return err
	}
	return exec("reset", "RESET ALL")
}
