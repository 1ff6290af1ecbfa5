package handling_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/internal/bulkload"
	"github.com/vanthu/vanthu/storage"
)

// benchDocs is how many incoming documents the benchmarks load: the
// issue's 200,000 (1,000,000 assignments) unless HANDLING_BENCH_DOCS says.
func benchDocs() int {
	if n, err := strconv.Atoi(os.Getenv("HANDLING_BENCH_DOCS")); err == nil && n > 0 {
		return n
	}
	return 200000
}

// office loads, in bulk, an organisation of 100 units (one head, ten
// handlers each) that received n documents through 2026, each with five
// parts: a lead unit, its handler, two coordinating people and an informed
// unit (n × 5 assignments), with their inbox items. A third of the parts
// are completed (on time or late), the rest open, some overdue. Each table
// is one INSERT … SELECT over generate_series, with the indexes built
// after the rows (package bulkload).
func (w *world) office(tb testing.TB, n int) (handlers []string, leader string) {
	tb.Helper()
	ctx := context.Background()
	org, clerk, leaderID := w.org.ID, w.id("clerk"), w.id("leader")
	steps := []bulkload.Step{
		{SQL: `INSERT INTO units (organization_id, code, name) SELECT $1, 'U' || g, 'Phòng ' || g FROM generate_series(0, 99) g`, Args: []any{org}},
		// Person k of unit un: k = 0 the head, 1..10 handlers.
		{SQL: `INSERT INTO users (username, full_name, organization_id) SELECT 'u' || un || '_' || k, 'Người ' || un || '_' || k, $1
			FROM generate_series(0, 99) un, generate_series(0, 10) k`, Args: []any{org}},
		{SQL: `CREATE TEMP TABLE bu AS SELECT id, substr(code, 2)::int AS un FROM units WHERE organization_id = $1 AND code ~ '^U[0-9]+$'`, Args: []any{org}},
		{SQL: `CREATE TEMP TABLE bp AS SELECT u.id, bu.id AS unit_id, bu.un, split_part(u.username, '_', 2)::int AS k
			FROM users u JOIN bu ON bu.un = split_part(substr(u.username, 2), '_', 1)::int
			WHERE u.organization_id = $1 AND u.username ~ '^u[0-9]+_[0-9]+$'`, Args: []any{org}},
		{SQL: `ANALYZE bp`},
		{SQL: `INSERT INTO user_units (user_id, organization_id, unit_id) SELECT id, $1, unit_id FROM bp`, Args: []any{org}},
		{SQL: `INSERT INTO user_roles (user_id, role) SELECT id, CASE WHEN k = 0 THEN 'reviewer' ELSE 'drafter' END FROM bp`},
		{SQL: `INSERT INTO documents (type_code, subject, unit, search_text, created_by, organization_id, status, created_at)
			SELECT 'CV', 'Công văn đến ' || g, '', 'cong van den ' || g, $1, $2, 'registered',
				timestamptz '2026-01-01 08:00+07' + (g % 360) * interval '1 day' FROM generate_series(1, $3) g`, Args: []any{clerk, org, n}},
		{SQL: `CREATE TEMP TABLE bd AS SELECT id, created_at AS at, (row_number() OVER (ORDER BY id) - 1)::int AS rn
			FROM documents WHERE organization_id = $1 AND subject LIKE 'Công văn đến %'`, Args: []any{org}},
		{SQL: `INSERT INTO document_handling (document_id, organization_id, status, received_at, assigned_at, due_at, completed_at)
			SELECT id, $1, CASE WHEN rn % 3 = 0 THEN 'completed' ELSE 'assigned' END, at, at, at + interval '10 days',
				CASE WHEN rn % 3 = 0 THEN at + (rn % 15) * interval '1 day' END FROM bd`, Args: []any{org}},
		// Part p of document rn: 0 the lead unit, 1 its handler (under
		// part 0), 2 and 3 coordinating people of other units, 4 an
		// informed unit; (un, k) names the unit and its person (k = 0 for
		// a unit's part: its head holds the inbox item). Assignment ids
		// are made here so part 1 can name its parent and the inbox its
		// assignment.
		{SQL: `CREATE TEMP TABLE bparts AS
			WITH parts AS (
				SELECT bd.id AS document_id, bd.rn, bd.at, p, ids[p + 1] AS id, CASE WHEN p = 1 THEN ids[1] END AS parent_id,
					CASE WHEN p = 1 THEN bd.rn % 100 ELSE (bd.rn + p) % 100 END AS un,
					CASE WHEN p = 1 THEN 1 + bd.rn / 100 % 10 WHEN p IN (2, 3) THEN 1 + (bd.rn / 100 + p) % 10 ELSE 0 END AS k
				FROM (SELECT bd.*, ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid()] AS ids FROM bd) bd,
					generate_series(0, 4) p)
			SELECT x.document_id, x.p, x.id, x.parent_id,
				CASE WHEN x.p IN (0, 4) THEN bp.unit_id END AS unit_id,
				CASE WHEN x.p IN (1, 2, 3) THEN bp.id END AS user_id,
				bp.id AS holder,
				CASE WHEN x.p IN (0, 1) THEN 'lead' WHEN x.p = 4 THEN 'inform' ELSE 'coordinate' END AS role,
				CASE WHEN x.p <> 4 AND x.rn % 3 = 0 THEN 'done' ELSE 'open' END AS state, x.at,
				CASE WHEN x.p <> 4 THEN x.at + interval '10 days' END AS due_at,
				CASE WHEN x.p <> 4 AND x.rn % 3 = 0 THEN x.at + (x.rn % 15) * interval '1 day' END AS completed_at
			FROM parts x JOIN bp ON bp.un = x.un AND bp.k = x.k`},
		{SQL: `INSERT INTO assignments (id, organization_id, document_id, parent_id, unit_id, user_id, role, state, assigned_by, assigned_at, due_at, completed_at)
			SELECT id, $1, document_id, parent_id, unit_id, user_id, role, state, $2, at, due_at, completed_at FROM bparts ORDER BY document_id, p`, Args: []any{org, leaderID}},
		{SQL: `INSERT INTO inbox_items (organization_id, user_id, document_id, source, label, task, state, since, due_at, done_at, assignment_id)
			SELECT $1, holder, document_id, 'handling', role, 'handle',
				CASE WHEN role = 'inform' THEN 'info' WHEN p = 0 THEN 'forwarded' WHEN state = 'done' THEN 'done' ELSE 'open' END,
				at, due_at, coalesce(completed_at, CASE WHEN p = 0 THEN at END), id
			FROM bparts`, Args: []any{org}},
		{SQL: `DROP TABLE bparts, bd, bp, bu`},
	}
	if err := bulkload.Load(ctx, w.db.Pool, []string{"documents", "document_handling", "assignments", "inbox_items"}, steps); err != nil {
		tb.Fatal(err)
	}
	// The load ran with triggers off: the statistics' tallies are made
	// from the rows, as the migration does.
	if err := storage.RebuildHandlingTallies(ctx, w.db.Pool); err != nil {
		tb.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, "VACUUM ANALYZE handling_tallies"); err != nil {
		tb.Fatal(err)
	}
	rows, err := w.db.Pool.Query(ctx, `SELECT u.id::text FROM users u WHERE u.organization_id = $1 AND u.username ~ '^u[0-9]+_[0-9]+$'
		AND split_part(u.username, '_', 2)::int > 0
		ORDER BY split_part(substr(u.username, 2), '_', 1)::int, split_part(u.username, '_', 2)::int`, org)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	return ids, leaderID
}

// explainPlans, when HANDLING_BENCH_EXPLAIN is set, has the server log the
// plan of every statement the benchmark runs (auto_explain, with actual
// rows and buffers), in the test cluster's log.
func explainPlans(tb testing.TB, db *storage.DB) {
	if os.Getenv("HANDLING_BENCH_EXPLAIN") == "" {
		return
	}
	_, err := db.Pool.Exec(context.Background(), `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = ''auto_explain''', current_database());
		EXECUTE format('ALTER DATABASE %I SET auto_explain.log_min_duration = 0', current_database());
		EXECUTE format('ALTER DATABASE %I SET auto_explain.log_analyze = on', current_database());
		EXECUTE format('ALTER DATABASE %I SET auto_explain.log_buffers = on', current_database());
	END $$`)
	if err != nil {
		tb.Fatal(err)
	}
	db.Pool.Reset()
}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return float64(d[i]) / float64(time.Millisecond)
}

// BenchmarkHandling loads the office once and measures a handler's inbox
// (each view, first page and counters, handlers taken in turn) and a
// year's statistics for the organisation; p50 and p99 in milliseconds.
func BenchmarkHandling(b *testing.B) {
	w := newWorld(b)
	n := benchDocs()
	start := time.Now()
	handlers, _ := w.office(b, n)
	var assignments int
	if err := w.db.Pool.QueryRow(w.ctx, "SELECT count(*) FROM assignments").Scan(&assignments); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d documents, %d assignments, %d handlers in %s", n, assignments, len(handlers), time.Since(start).Round(time.Second))
	explainPlans(b, w.db)
	w.set(time.Date(2026, 9, 15, 3, 0, 0, 0, time.UTC))
	chains := &chain.Service{DB: w.db, Docs: w.docs, Now: w.now}
	for _, view := range []string{chain.ViewOpen, chain.ViewOverdue, chain.ViewDueSoon, chain.ViewHandled, chain.ViewForInformation} {
		b.Run("inbox/"+view, func(b *testing.B) {
			var ds []time.Duration
			i := 0
			for b.Loop() {
				u, err := storage.GetUser(w.ctx, w.db.Pool, handlers[i%len(handlers)])
				if err != nil {
					b.Fatal(err)
				}
				p := w.p("leader")
				p.User = u
				t0 := time.Now()
				page, err := chains.Inbox(w.ctx, p, chain.InboxRequest{View: view})
				ds = append(ds, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if view == chain.ViewOpen && page.Counts.Open == 0 {
					b.Fatalf("handler %s has nothing open", u.ID)
				}
				i++
			}
			slices.Sort(ds)
			b.ReportMetric(percentile(ds, 0.5), "p50-ms")
			b.ReportMetric(percentile(ds, 0.99), "p99-ms")
		})
	}
	// A year's statistics: to date (on 28 December, the data ending on the
	// 26th), once it has closed (on 5 January 2027), and on 15 September
	// with three months of parts given after that day — data no office
	// holds (parts are given when they are given), kept as the worst case
	// of the corrections for the moment statistics are taken as of.
	for _, at := range []struct {
		name string
		now  time.Time
	}{
		{"statistics-year-to-date", time.Date(2026, 12, 28, 3, 0, 0, 0, time.UTC)},
		{"statistics-closed-year", time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)},
		{"statistics-year-with-later-data", time.Date(2026, 9, 15, 3, 0, 0, 0, time.UTC)},
	} {
		b.Run(at.name, func(b *testing.B) {
			w.set(at.now)
			var ds []time.Duration
			for b.Loop() {
				t0 := time.Now()
				st, err := w.svc.Statistics(w.ctx, w.p("leader"), handling.StatisticsRequest{From: "2026-01-01", To: "2026-12-31"})
				ds = append(ds, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if st.Organization.Received != n || len(st.Units) != 100 {
					b.Fatalf("statistics: %d received, %d units", st.Organization.Received, len(st.Units))
				}
			}
			slices.Sort(ds)
			b.ReportMetric(percentile(ds, 0.5), "p50-ms")
			b.ReportMetric(percentile(ds, 0.99), "p99-ms")
		})
	}
}
