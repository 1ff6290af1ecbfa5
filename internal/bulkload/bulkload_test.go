package bulkload_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vanthu/vanthu/internal/bulkload"
	"github.com/vanthu/vanthu/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// TestLoad: the rows go in, every secondary index (partial and covering
// ones too) comes back as it was, constraints stay, and the statistics
// the planner reads are there.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testharness.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, sql := range []string{
		`CREATE TABLE parents (id int PRIMARY KEY)`,
		`CREATE TABLE items (id int PRIMARY KEY, parent int NOT NULL REFERENCES parents (id), state text NOT NULL, at int NOT NULL, UNIQUE (parent, at))`,
		`CREATE INDEX items_open ON items (parent, at DESC) WHERE state = 'open'`,
		`CREATE INDEX items_cover ON items (at) INCLUDE (state)`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	indexes := func() []string {
		rows, err := pool.Query(ctx, `SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'items'::regclass ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return defs
	}
	before := indexes()
	err = bulkload.Load(ctx, pool, []string{"parents", "items"}, []bulkload.Step{
		{SQL: `INSERT INTO parents SELECT g FROM generate_series(1, $1) g`, Args: []any{100}},
		{SQL: `INSERT INTO items SELECT g, 1 + g % 100, CASE WHEN g % 3 = 0 THEN 'open' ELSE 'done' END, g FROM generate_series(1, 10000) g`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := indexes(); !slices.Equal(before, after) {
		t.Fatalf("indexes after the load\n%q\nwant\n%q", after, before)
	}
	var n, analysed int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM pg_stats WHERE tablename = 'items')`).Scan(&n, &analysed); err != nil {
		t.Fatal(err)
	}
	if n != 10000 || analysed == 0 {
		t.Fatalf("%d rows, %d column statistics", n, analysed)
	}
	// Constraints still hold once the load is over, on a connection
	// that had been used for it.
	for _, sql := range []string{
		`INSERT INTO items VALUES (20000, 1000, 'open', 1)`, // no such parent
		`INSERT INTO items VALUES (20001, 1, 'open', 100)`,  // (parent, at) taken
	} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", sql)
		}
	}
	// A failing step is reported with its statement.
	err = bulkload.Load(ctx, pool, []string{"items"}, []bulkload.Step{{SQL: `INSERT INTO nowhere VALUES (1)`}})
	if err == nil {
		t.Fatal("a failing step passed")
	}
}
