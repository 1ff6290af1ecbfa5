package chain_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/internal/bulkload"
	"github.com/vanthu/vanthu/storage"
)

// inFlight loads n documents, each in review at a one-person stage of one
// of reviewers (document i waits for reviewer i mod len), with a sign
// stage after it: what a busy office holds, loaded in bulk rather than
// through n submissions.
func (w *world) inFlight(tb testing.TB, n int, reviewers []string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := w.db.Pool.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	ids := make([]string, len(reviewers))
	for i, r := range reviewers {
		ids[i] = w.id(r)
	}
	drafter, org := w.id("drafter"), w.org.ID
	exec := func(sql string, args ...any) {
		tb.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			tb.Fatalf("load: %v\n%s", err, sql)
		}
	}
	exec(`INSERT INTO documents (type_code, subject, unit, search_text, created_by, organization_id, unit_id, status)
		SELECT 'QĐ', 'Quyết định ' || g, 'VP', 'quyet dinh ' || g, $1, $2, $3, 'in_review' FROM generate_series(1, $4) g`, drafter, org, w.vp.ID, n)
	exec(`CREATE TEMP TABLE bench_docs AS SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS rn FROM documents WHERE organization_id = $1 AND subject LIKE 'Quyết định %'`, org)
	exec(`INSERT INTO document_versions (document_id, number, blob_key, size, file_name, created_by)
		SELECT id, 1, encode(sha256(id::text::bytea), 'hex'), 1000, 'qd.pdf', $1 FROM bench_docs`, drafter)
	exec(`INSERT INTO document_chains (document_id, organization_id, drafter_id, status, generation, round, version, version_sha256)
		SELECT id, $1, $2, 'in_review', 1, 1, 1, encode(sha256(id::text::bytea), 'hex') FROM bench_docs`, org, drafter)
	exec(`INSERT INTO chain_stages (document_id, generation, position, name, kind, rule, blocking, participants, state, activated_at)
		SELECT id, 1, 1, 'Kiểm tra', 'review', 'all', true,
			json_build_array(json_build_object('user_id', ($1::uuid[])[1 + rn % cardinality($1::uuid[])])), 'active', now() FROM bench_docs`, ids)
	exec(`INSERT INTO chain_stages (document_id, generation, position, name, kind, rule, blocking, participants)
		SELECT id, 1, 2, 'Ký', 'sign', 'all', true, json_build_array(json_build_object('user_id', $1::uuid)) FROM bench_docs`, w.id("signer"))
	exec(`INSERT INTO inbox_items (organization_id, user_id, document_id, stage_id, round, label, task, counts, since)
		SELECT $1, ($2::uuid[])[1 + b.rn % cardinality($2::uuid[])], b.id, s.id, 1, 'Kiểm tra', 'approve', true, now()
		FROM bench_docs b JOIN chain_stages s ON s.document_id = b.id AND s.position = 1`, org, ids)
	exec(`DROP TABLE bench_docs`)
	// Vacuumed as well as analysed: autovacuum would otherwise visit the
	// freshly loaded tables while the approvals are measured, and its CPU
	// would count as theirs (pg-cpu-ms/op).
	exec(`VACUUM ANALYZE`)
}

// percentile of sorted durations, in milliseconds.
func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return float64(d[i]) / float64(time.Millisecond)
}

// BenchmarkApprovals: 200 reviewers approving across 10,000 documents in
// flight (VANTHU_BENCH_DOCS to change it); each approval locks its
// document, moves the chain to its sign stage and commits with its history
// and audit entries. b.N approvals are made (at most the documents).
//
// paced is the office the target speaks of: 200 people offering 500
// approvals a second between them (VANTHU_BENCH_RATE to change it), each
// approving at its own scheduled times, every users/rate seconds from a
// random start (open loop: a late approval does not delay the schedule).
// It reports the achieved rate and the latency of the action itself.
// closed is the most the service takes: 200 people approving back to back
// (by Little's law their latency is 200 / throughput, whatever an approval
// costs). One reviewer alone gives the cost of an approval without waiting.
//
// The runs with publisher=notify do the same with the publisher the
// service uses: the notifications engine wired and started as serve does
// it, every person choosing e-mail and the organisation having a webhook
// endpoint (office), so that each approval records its event, and the
// engine's fan-out (after the commits, in batches) makes its two
// notifications and queues two e-mails and a webhook, which the engine's
// workers send meanwhile (to an in-process SMTP server and receiver) on
// the same machine, as in the service. They report what was published per
// approval besides, once the fan-out has told every event. publisher=inapp is the same engine in an
// office that has set up neither e-mail nor webhooks: the event and its
// notifications in the application, no jobs.
//
// Every run also keeps a timeline (timeline_test.go): per 100 ms, the
// approvals' p99 beside the CPU other processes took, checkpoints,
// autovacuum, GC and the pool's waits; VANTHU_BENCH_TIMELINE=file writes
// all of it, VANTHU_BENCH_CHECKPOINT=0 leaves out the CHECKPOINT before
// the timed seconds.
func BenchmarkApprovals(b *testing.B) {
	rate := 500.0
	if v := os.Getenv("VANTHU_BENCH_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			b.Fatalf("VANTHU_BENCH_RATE=%q: approvals a second, more than 0", v)
		}
		rate = r
	}
	docs := 10000
	if v := os.Getenv("VANTHU_BENCH_DOCS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 400 {
			b.Fatalf("VANTHU_BENCH_DOCS=%q: documents in flight, at least 400 (two for each of 200 people)", v)
		}
		docs = n
	}
	b.Run("users=200/paced", func(b *testing.B) { approvals(b, 200, rate, docs, "") })
	b.Run("users=200/closed", func(b *testing.B) { approvals(b, 200, 0, docs, "") })
	b.Run("users=1", func(b *testing.B) { approvals(b, 1, 0, docs, "") })
	// Each beside its run without a publisher: -bench
	// BenchmarkApprovals/users=200/paced runs both.
	b.Run("users=200/paced/publisher=inapp", func(b *testing.B) { approvals(b, 200, rate, docs, "inapp") })
	b.Run("users=200/paced/publisher=notify", func(b *testing.B) { approvals(b, 200, rate, docs, "notify") })
	b.Run("users=200/closed/publisher=notify", func(b *testing.B) { approvals(b, 200, 0, docs, "notify") })
	b.Run("users=1/publisher=notify", func(b *testing.B) { approvals(b, 1, 0, docs, "notify") })
}

// approvals makes b.N approvals by users reviewers, offered at rate a
// second in total (0: each as soon as the one before is done), across
// docs documents in flight; with a publisher ("inapp" or "notify"),
// through the service's notifications engine.
func approvals(b *testing.B, users int, rate float64, docs int, publisher string) {
	w := newWorld(b)
	// The pool is the service's own default (pgxpool: four connections on
	// two cores). A wider one lets more transactions contend inside
	// PostgreSQL at once: at sixteen it spent 3.4 ms of CPU per approval
	// instead of 1.8 and the 200 people fell behind (BENCHMARKS.md).
	const pool = 4
	var reviewers []string
	for i := 0; i < users; i++ {
		name := fmt.Sprintf("rv%03d", i)
		w.person(name, w.vp, storage.RoleReviewer)
		reviewers = append(reviewers, name)
	}
	w.svc.Now = nil // the real clock
	w.widePool(pool)
	w.inFlight(b, docs, reviewers)
	var o *office
	if publisher != "" {
		o = w.publishing(b, true, publisher == "notify")
	}
	work := make([][]string, users)
	rows, err := w.db.Pool.Query(context.Background(), "SELECT user_id::text, document_id::text FROM inbox_items WHERE state = 'open' AND task = 'approve'")
	if err != nil {
		b.Fatal(err)
	}
	byID := map[string]int{}
	for i, r := range reviewers {
		byID[w.id(r)] = i
	}
	for rows.Next() {
		var u, d string
		if err := rows.Scan(&u, &d); err != nil {
			b.Fatal(err)
		}
		work[byID[u]] = append(work[byID[u]], d)
	}
	rows.Close()
	n := min(b.N, docs)
	// Each reviewer makes its share of the n approvals.
	share := make([]int, users)
	for i := range n {
		share[i%users]++
	}
	warmUp(b, w, reviewers, work, share)
	// The load, the publisher's setup and the warm-up write WAL enough for
	// a checkpoint to fall inside the timed seconds; none did in 45 runs
	// without this one (BENCHMARKS.md), but one now (after the load's
	// VACUUM ANALYZE) puts the next timed checkpoint minutes past the run
	// for any -count. The timed approvals then pay the full-page images
	// that follow any checkpoint, as in steady state.
	// VANTHU_BENCH_CHECKPOINT=0 leaves it out, to see what it changes.
	if os.Getenv("VANTHU_BENCH_CHECKPOINT") != "0" {
		if _, err := w.db.Pool.Exec(context.Background(), "CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
	}
	pg := w.postgresCPU(b)
	wal0 := w.walStats(b)
	goCPU0, pgCPU0 := processCPU(b), pg()
	flushes0 := w.svc.DurableFlushes()
	latencies := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var failures, late int
	var every time.Duration
	if rate > 0 {
		every = time.Duration(float64(users) / rate * float64(time.Second))
	}
	tl := w.startTimeline(b, pg)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := w.p(reviewers[u])
			var next time.Time
			if every > 0 {
				next = start.Add(rand.N(every))
			}
			for i := 0; i < share[u] && i < len(work[u]); i++ {
				if every > 0 {
					wait := time.Until(next)
					if wait > 0 {
						time.Sleep(wait)
					}
					next = next.Add(every)
				}
				t0 := time.Now()
				_, err := w.svc.Act(context.Background(), p, work[u][i], chain.ActionRequest{Action: chain.ActionApprove}, "")
				el := time.Since(t0)
				tl.record(t0, el)
				mu.Lock()
				latencies = append(latencies, el)
				if every > 0 && time.Now().After(next) {
					late++ // the next approval is already due: the schedule is not kept
				}
				if err != nil {
					failures++
					if failures == 1 {
						b.Errorf("approve: %v", err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	goCPU, pgCPU := processCPU(b)-goCPU0, pg()-pgCPU0
	wal := w.walStats(b).minus(wal0)
	b.StopTimer()
	tl.finish()
	slices.Sort(latencies)
	b.ReportMetric(percentile(latencies, 0.5), "p50-ms")
	b.ReportMetric(percentile(latencies, 0.99), "p99-ms")
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "actions/s")
	// Where the CPU went, per approval: this process (the service and the
	// benchmark's goroutines) and the PostgreSQL cluster (every process of
	// its postmaster: backends, WAL writer, autovacuum).
	b.ReportMetric(float64(goCPU)/float64(time.Millisecond)/float64(len(latencies)), "go-cpu-ms/op")
	b.ReportMetric(float64(pgCPU)/float64(time.Millisecond)/float64(len(latencies)), "pg-cpu-ms/op")
	// What the cluster wrote to its WAL meanwhile, per approval (the
	// engine's fan-out and jobs included when it runs): with durable
	// commits (VANTHU_TEST_PG_DURABLE=1) every byte of it is flushed before
	// a commit returns, and full-page images are most of it.
	made := float64(len(latencies))
	b.ReportMetric(float64(wal.bytes)/made, "wal-B/op")
	b.ReportMetric(float64(wal.fpi)/made, "wal-fpi/op")
	b.ReportMetric(float64(wal.records)/made, "wal-rec/op")
	b.ReportMetric(float64(wal.syncs)/made, "wal-sync/op")
	// The flushes the approvals waited for, shared among those committed
	// meanwhile (storage.SharedFlush).
	b.ReportMetric(float64(w.svc.DurableFlushes()-flushes0)/made, "waits/op")
	if rate > 0 {
		b.ReportMetric(rate, "offered/s")
		b.ReportMetric(float64(late), "behind")
	}
	if o != nil {
		// Whatever the running fan-out has not told yet is told now (not
		// timed), and what it is telling is waited for: the counts are of
		// everything the approvals cause.
		for w.count(b, "SELECT count(*) FROM notify_events WHERE pending IS NOT NULL") > 0 {
			if _, err := o.engine.FanOut(context.Background()); err != nil {
				b.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// What was published, per approval made (the warm-up's included):
		// one event, the drafter and the signer told, and (notify) two
		// e-mails and a webhook queued.
		made := float64(w.count(b, "SELECT count(*) FROM chain_actions WHERE action = 'approve'"))
		b.ReportMetric(float64(w.count(b, "SELECT count(*) FROM notify_events"))/made, "events/op")
		b.ReportMetric(float64(w.count(b, "SELECT count(*) FROM notifications"))/made, "notifications/op")
		b.ReportMetric(float64(w.count(b, "SELECT count(*) FROM river_job WHERE kind IN ('notify-email', 'webhook')"))/made, "jobs/op")
	}
}

// warmUp makes one approval per reviewer from the end of their work, which
// the measured ones do not reach, four at a time, so the measured seconds
// see a running service: without it every approval of the first 0.7 s
// waited behind the pool's first statements and PostgreSQL's cold caches,
// and those alone made the p99.
func warmUp(b *testing.B, w *world, reviewers []string, work [][]string, share []int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range next {
				last := len(work[u]) - 1
				if _, err := w.svc.Act(context.Background(), w.p(reviewers[u]), work[u][last], chain.ActionRequest{Action: chain.ActionApprove}, ""); err != nil {
					b.Errorf("warm-up approval: %v", err)
				}
				work[u] = work[u][:last]
			}
		}()
	}
	for u := range reviewers {
		if share[u] < len(work[u]) {
			next <- u
		}
	}
	close(next)
	wg.Wait()
}

// walStats is the cluster's WAL written so far (pg_stat_wal).
type walStats struct{ bytes, fpi, records, syncs int64 }

func (w *world) walStats(b *testing.B) walStats {
	var s walStats
	if err := w.db.Pool.QueryRow(w.ctx, "SELECT wal_bytes::bigint, wal_fpi, wal_records, wal_sync FROM pg_stat_wal").
		Scan(&s.bytes, &s.fpi, &s.records, &s.syncs); err != nil {
		b.Fatal(err)
	}
	return s
}

func (s walStats) minus(o walStats) walStats {
	return walStats{s.bytes - o.bytes, s.fpi - o.fpi, s.records - o.records, s.syncs - o.syncs}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU returns a function reading the CPU time the world's
// PostgreSQL cluster has used: its postmaster's (with the children it has
// reaped) and every live child's, from /proc (Linux; clock ticks of 10 ms).
func (w *world) postgresCPU(b *testing.B) func() time.Duration {
	var backend int
	if err := w.db.Pool.QueryRow(w.ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		b.Fatal(err)
	}
	fields := func(pid int) []string {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return nil
		}
		s := string(raw)
		return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // from field 3, the state
	}
	ticks := func(f []string, from, to int) (n int64) {
		for i := from; i <= to && i < len(f); i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			n += v
		}
		return n
	}
	f := fields(backend)
	if f == nil {
		b.Fatalf("PostgreSQL backend %d: no /proc entry", backend)
	}
	postmaster, _ := strconv.Atoi(f[1])
	return func() time.Duration {
		total := ticks(fields(postmaster), 11, 14) // utime, stime, cutime, cstime
		dir, err := os.ReadDir("/proc")
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range dir {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if f := fields(pid); len(f) > 12 && f[1] == strconv.Itoa(postmaster) {
				total += ticks(f, 11, 12)
			}
		}
		return time.Duration(total) * 10 * time.Millisecond
	}
}

// inboxBenchDocs is how many documents BenchmarkInbox loads: the issue's
// 100,000 (1,000,000 inbox items) unless CHAIN_INBOX_BENCH_DOCS says.
func inboxBenchDocs() int {
	if n, err := strconv.Atoi(os.Getenv("CHAIN_INBOX_BENCH_DOCS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// BenchmarkInbox: one person's inbox page and counts, in a database of
// 100,000 documents and 1,000,000 inbox items across 1,000 people (a tenth
// of them open), loaded in bulk (package bulkload).
func BenchmarkInbox(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	w.svc.Now = nil
	const people, perDoc = 1000, 10
	docs := inboxBenchDocs()
	org := w.org.ID
	steps := []bulkload.Step{
		{SQL: `INSERT INTO users (username, full_name, organization_id) SELECT 'nv' || g, 'Nhân viên ' || g, $1 FROM generate_series(1, $2) g`, Args: []any{org, people}},
		{SQL: `INSERT INTO documents (type_code, subject, unit, search_text, created_by, organization_id, status)
		 SELECT 'QĐ', 'Quyết định ' || g, 'VP', 'quyet dinh ' || g, $2, $1, 'in_review' FROM generate_series(1, $3) g`, Args: []any{org, w.id("drafter"), docs}},
		// Person p (0-based, in username order) and document rn.
		{SQL: `CREATE TEMP TABLE bench_people AS SELECT id, (row_number() OVER (ORDER BY username) - 1)::int AS p FROM users WHERE username LIKE 'nv%'`},
		{SQL: `ANALYZE bench_people`},
		{SQL: `INSERT INTO inbox_items (organization_id, user_id, document_id, round, label, task, counts, state, since, due_at, done_at)
		 SELECT $1, u.id, d.id, 1, 'Kiểm tra', 'approve', true,
			CASE WHEN j = 0 THEN 'open' ELSE 'done' END,
			now() - (d.rn % 365) * interval '1 day', now() + ((d.rn % 20) - 10) * interval '1 day',
			CASE WHEN j = 0 THEN NULL ELSE now() - (d.rn % 300) * interval '1 day' END
		 FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM documents WHERE organization_id = $1) d
			CROSS JOIN generate_series(0, $2 - 1) j
			JOIN bench_people u ON u.p = (d.rn * $2 + j) % $3`, Args: []any{org, perDoc, people}},
		{SQL: `DROP TABLE bench_people`},
	}
	if err := bulkload.Load(ctx, w.db.Pool, []string{"documents", "inbox_items"}, steps); err != nil {
		b.Fatal(err)
	}
	var ids []string
	rows, err := w.db.Pool.Query(ctx, "SELECT id::text FROM users WHERE username LIKE 'nv%'")
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	// The load runs once: the measure is a sub-benchmark, which alone is
	// run again for b.N.
	b.Run("page-and-counts", func(b *testing.B) {
		latencies := make([]time.Duration, 0, b.N)
		views := []string{chain.ViewOpen, chain.ViewOpen, chain.ViewDueSoon, chain.ViewOverdue, chain.ViewHandled}
		for i := 0; i < b.N; i++ {
			u, err := storage.GetUser(ctx, w.db.Pool, ids[rand.IntN(len(ids))])
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			page, err := w.svc.Inbox(ctx, accounts.Principal{User: u}, chain.InboxRequest{View: views[i%len(views)], Limit: 50})
			latencies = append(latencies, time.Since(t0))
			if err != nil || page.Counts.Open+page.Counts.Handled != perDoc*docs/people {
				b.Fatalf("inbox %+v %v", page.Counts, err)
			}
		}
		b.StopTimer()
		slices.Sort(latencies)
		b.ReportMetric(percentile(latencies, 0.5), "p50-ms")
		b.ReportMetric(percentile(latencies, 0.99), "p99-ms")
	})
}
