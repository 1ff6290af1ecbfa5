package chain_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The approvals' tail on a durable cluster came and went between runs of
// the same tree (p99 22–40 ms one hour, 33–540 ms the next). timeline
// records, every 100 ms of a timed run, what could make a slow moment —
// the machine's CPU taken by other processes, PostgreSQL's checkpoints,
// autovacuum workers and WAL syncs, this process's GC, the pool's waits —
// so that each slow 100 ms of the run can be read beside what happened in
// it rather than guessed at.

// timelineStep is the width of a bucket of the timeline.
const timelineStep = 100 * time.Millisecond

// sample is what the sampler read at one moment.
type sample struct {
	at                 time.Duration // since the run's start
	machineBusy        time.Duration // every CPU's non-idle time (/proc/stat)
	goCPU, pgCPU       time.Duration
	walSyncs, walBytes int64
	checkpoints        int64  // begun, timed or requested (pg_stat_bgwriter)
	checkpointBuffers  int64  // written by checkpoints
	autovacuumWorkers  int64  // running at the moment
	autovacuums        int64  // finished vacuums and analyses of the tables
	vacuuming          string // the tables autovacuum was vacuuming
	// The client backends at the moment: waiting for the audit log's
	// append lock (an advisory lock), for another lock (a document's row),
	// for an LWLock (the WAL's insertion or write among them), on the CPU
	// or waiting for it (active, no wait event).
	auditLockWaiters, lockWaiters, lwlockWaiters, running int64
	gcCycles                                              uint64
	gcPause                                               time.Duration // total stop-the-world time for GC
	emptyAcquires                                         int64         // acquisitions that waited for a connection
	acquireWait                                           time.Duration // time acquisitions waited, in all
}

// timeline samples the machine, the cluster and the pool every
// timelineStep while the approvals run, and records each approval's
// start and latency.
type timeline struct {
	b       *testing.B
	conn    *pgx.Conn // the sampler's own, not one of the service's
	pool    *pgxpool.Pool
	pg      func() time.Duration
	start   time.Time
	stop    chan struct{}
	done    chan struct{}
	samples []sample

	mu    sync.Mutex
	acted []actedAt
}

type actedAt struct{ at, took time.Duration }

// startTimeline opens the sampler's connection and takes the first
// sample; call record for each approval and finish once they are done.
func (w *world) startTimeline(b *testing.B, pg func() time.Duration) *timeline {
	conn, err := pgx.Connect(w.ctx, w.url)
	if err != nil {
		b.Fatal(err)
	}
	t := &timeline{b: b, conn: conn, pool: w.db.Pool, pg: pg, start: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	t.samples = append(t.samples, t.read())
	go func() {
		defer close(t.done)
		tick := time.NewTicker(timelineStep)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				t.samples = append(t.samples, t.read())
			}
		}
	}()
	return t
}

// record notes an approval begun at t0 that took took.
func (t *timeline) record(t0 time.Time, took time.Duration) {
	t.mu.Lock()
	t.acted = append(t.acted, actedAt{t0.Sub(t.start), took})
	t.mu.Unlock()
}

var gcMetrics = []string{"/gc/cycles/total:gc-cycles", "/sched/pauses/total/gc:seconds"}

// read takes a sample. pg_stat_wal and pg_stat_user_tables are updated by
// the backends at most once a second, so their counts lag by up to one.
func (t *timeline) read() sample {
	s := sample{at: time.Since(t.start), machineBusy: machineBusy(t.b), goCPU: processCPU(t.b), pgCPU: t.pg()}
	if err := t.conn.QueryRow(context.Background(), `SELECT
			(SELECT wal_sync FROM pg_stat_wal), (SELECT wal_bytes::bigint FROM pg_stat_wal),
			(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
			(SELECT buffers_checkpoint FROM pg_stat_bgwriter),
			(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'),
			(SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::bigint FROM pg_stat_user_tables),
			(SELECT coalesce(string_agg(relid::regclass::text, ',' ORDER BY relid), '') FROM pg_stat_progress_vacuum),
			count(*) FILTER (WHERE wait_event = 'advisory'),
			count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event <> 'advisory'),
			count(*) FILTER (WHERE wait_event_type = 'LWLock'),
			count(*) FILTER (WHERE state = 'active' AND wait_event IS NULL)
		FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).
		Scan(&s.walSyncs, &s.walBytes, &s.checkpoints, &s.checkpointBuffers, &s.autovacuumWorkers, &s.autovacuums,
			&s.vacuuming, &s.auditLockWaiters, &s.lockWaiters, &s.lwlockWaiters, &s.running); err != nil {
		t.b.Errorf("timeline sample: %v", err)
	}
	m := make([]metrics.Sample, len(gcMetrics))
	for i, name := range gcMetrics {
		m[i].Name = name
	}
	metrics.Read(m)
	s.gcCycles = m[0].Value.Uint64()
	h := m[1].Value.Float64Histogram()
	for i, n := range h.Counts {
		// Each pause counted at its bucket's lower bound (the first
		// bucket's is -Inf).
		if lo := h.Buckets[i]; n > 0 && lo > 0 {
			s.gcPause += time.Duration(float64(n) * lo * float64(time.Second))
		}
	}
	st := t.pool.Stat()
	s.emptyAcquires, s.acquireWait = st.EmptyAcquireCount(), st.AcquireDuration()
	return s
}

// machineBusy is the non-idle CPU time of every CPU of the machine since
// boot (/proc/stat: user, nice, system, irq, softirq, steal).
func machineBusy(b *testing.B) time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Errorf("timeline: %v", err) // on the sampler's goroutine: no Fatal
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest (counted in user)
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// bucket is one timelineStep of the run: the approvals begun in it and
// what the samples around it saw.
type bucket struct {
	at                      time.Duration
	n                       int
	p99                     float64 // ms
	othersCPU, goCPU, pgCPU float64 // cores, on average over the bucket
	walSyncs                int64
	checkpoints             int64
	checkpointBuffers       int64
	autovacuumWorkers       int64
	gcCycles                uint64
	gcPause                 time.Duration
	emptyAcquires           int64
	acquireWait             time.Duration
	vacuuming               string
	// Client backends at the bucket's end: waiting for the audit lock,
	// another lock, an LWLock; running.
	auditLockWaiters, lockWaiters, lwlockWaiters, running int64
}

// finish stops the sampler and reports how many 100-ms buckets had a p99
// over 50 ms, how many of those had, in the second up to them, other
// processes taking a core or more (half the machine), an autovacuum worker or a
// checkpoint, and the run's GC and pool waits; the slow buckets are logged
// one a line with what ran in each.
func (t *timeline) finish() {
	close(t.stop)
	<-t.done
	t.samples = append(t.samples, t.read())
	t.conn.Close(context.Background())
	byBucket := map[int][]time.Duration{}
	for _, a := range t.acted {
		i := int(a.at / timelineStep)
		byBucket[i] = append(byBucket[i], a.took)
	}
	var buckets []bucket
	for i := 1; i < len(t.samples); i++ {
		s0, s1 := t.samples[i-1], t.samples[i]
		k := int(s0.at / timelineStep)
		l := byBucket[k]
		slices.Sort(l)
		span := float64(s1.at - s0.at)
		goCPU, pgCPU := float64(s1.goCPU-s0.goCPU)/span, float64(s1.pgCPU-s0.pgCPU)/span
		buckets = append(buckets, bucket{at: s0.at, n: len(l), p99: percentile(l, 0.99),
			othersCPU:         max(0, float64(s1.machineBusy-s0.machineBusy)/span-goCPU-pgCPU),
			goCPU:             goCPU,
			pgCPU:             pgCPU,
			walSyncs:          s1.walSyncs - s0.walSyncs,
			checkpoints:       s1.checkpoints - s0.checkpoints,
			checkpointBuffers: s1.checkpointBuffers - s0.checkpointBuffers,
			autovacuumWorkers: max(s0.autovacuumWorkers, s1.autovacuumWorkers),
			gcCycles:          s1.gcCycles - s0.gcCycles,
			gcPause:           s1.gcPause - s0.gcPause,
			emptyAcquires:     s1.emptyAcquires - s0.emptyAcquires,
			acquireWait:       s1.acquireWait - s0.acquireWait,
			vacuuming:         s1.vacuuming,
			auditLockWaiters:  s1.auditLockWaiters,
			lockWaiters:       s1.lockWaiters,
			lwlockWaiters:     s1.lwlockWaiters,
			running:           s1.running,
		})
	}
	first, last := t.samples[0], t.samples[len(t.samples)-1]
	var slow, slowWithOthers, slowWithAutovacuum, slowWithCheckpoint int
	var autovacuumBuckets int
	var auditLockWaiters, lockWaiters, running int64
	for i, bk := range buckets {
		if bk.autovacuumWorkers > 0 {
			autovacuumBuckets++
		}
		auditLockWaiters += bk.auditLockWaiters
		lockWaiters += bk.lockWaiters
		running += bk.running
		if bk.p99 <= 50 {
			continue
		}
		slow++
		// A slow moment is one the approvals begun in it waited out: what
		// ran in the second before it counts too.
		near := buckets[max(0, i-10) : i+1]
		if slices.ContainsFunc(near, func(b bucket) bool { return b.othersCPU >= 1 }) {
			slowWithOthers++
		}
		if slices.ContainsFunc(near, func(b bucket) bool { return b.autovacuumWorkers > 0 }) {
			slowWithAutovacuum++
		}
		if slices.ContainsFunc(near, func(b bucket) bool { return b.checkpoints > 0 || b.checkpointBuffers > 0 }) {
			slowWithCheckpoint++
		}
	}
	t.b.ReportMetric(float64(slow), "slow-100ms")
	t.b.ReportMetric(float64(slowWithOthers), "slow-others-cpu")
	t.b.ReportMetric(float64(slowWithAutovacuum), "slow-autovac")
	t.b.ReportMetric(float64(slowWithCheckpoint), "slow-ckpt")
	t.b.ReportMetric(float64(autovacuumBuckets), "autovac-100ms")
	t.b.ReportMetric(float64(last.checkpoints-first.checkpoints), "ckpts")
	// What the pool's connections were doing when sampled, on average.
	if n := float64(len(buckets)); n > 0 {
		t.b.ReportMetric(float64(auditLockWaiters)/n, "audit-lock-waiters")
		t.b.ReportMetric(float64(lockWaiters)/n, "lock-waiters")
		t.b.ReportMetric(float64(running)/n, "pg-running")
	}
	span := float64(last.at - first.at)
	t.b.ReportMetric(max(0, float64(last.machineBusy-first.machineBusy-(last.goCPU-first.goCPU)-(last.pgCPU-first.pgCPU))/span), "others-cores")
	t.b.ReportMetric(float64(last.gcCycles-first.gcCycles), "gc-cycles")
	t.b.ReportMetric(float64(last.gcPause-first.gcPause)/float64(time.Millisecond), "gc-pause-ms")
	if n := len(t.acted); n > 0 {
		t.b.ReportMetric(float64(last.emptyAcquires-first.emptyAcquires)/float64(n), "pool-waited/op")
		t.b.ReportMetric(float64(last.acquireWait-first.acquireWait)/float64(time.Millisecond)/float64(n), "pool-wait-ms/op")
	}
	// The CPU the other processes took in the slow buckets and in the
	// others: the one cause that told them apart in every run measured.
	var othersSlow, othersFast float64
	var nFast int
	for _, bk := range buckets {
		if bk.p99 > 50 {
			othersSlow += bk.othersCPU
		} else {
			othersFast += bk.othersCPU
			nFast++
		}
	}
	if slow > 0 {
		t.b.ReportMetric(othersSlow/float64(slow), "others-cores-slow")
	}
	if nFast > 0 {
		t.b.ReportMetric(othersFast/float64(nFast), "others-cores-fast")
	}
	// The timeline itself: a benchmark's log is cut at ten lines, so the
	// slowest buckets are logged, and every bucket is written to the file
	// VANTHU_BENCH_TIMELINE names (appended to, one run after another).
	line := func(bk bucket) string {
		return fmt.Sprintf("%5.1fs n=%3d p99=%6.1fms cores others=%.2f go=%.2f pg=%.2f wal-syncs=%d ckpt=%d+%dbuf autovac=%d%s gc=%d/%.2fms pool-waited=%d/%.0fms backends audit-lock=%d lock=%d lwlock=%d running=%d",
			bk.at.Seconds(), bk.n, bk.p99, bk.othersCPU, bk.goCPU, bk.pgCPU, bk.walSyncs, bk.checkpoints, bk.checkpointBuffers,
			bk.autovacuumWorkers, bracketed(bk.vacuuming), bk.gcCycles, float64(bk.gcPause)/float64(time.Millisecond), bk.emptyAcquires, float64(bk.acquireWait)/float64(time.Millisecond),
			bk.auditLockWaiters, bk.lockWaiters, bk.lwlockWaiters, bk.running)
	}
	if path := os.Getenv("VANTHU_BENCH_TIMELINE"); path != "" {
		var all strings.Builder
		fmt.Fprintf(&all, "# %s %s\n", t.b.Name(), t.start.UTC().Format(time.RFC3339))
		for _, bk := range buckets {
			all.WriteString(line(bk) + "\n")
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err == nil {
			_, err = f.WriteString(all.String())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			t.b.Errorf("timeline: %v", err)
		}
	}
	worst := slices.Clone(buckets)
	slices.SortFunc(worst, func(a, b bucket) int { return cmp.Compare(b.p99, a.p99) })
	var lines []string
	for _, bk := range worst[:min(8, slow)] {
		lines = append(lines, line(bk))
	}
	if len(lines) > 0 {
		t.b.Logf("%d of %d 100-ms buckets had a p99 over 50 ms; the slowest:\n%s", slow, len(buckets), strings.Join(lines, "\n"))
	}
}

func bracketed(s string) string {
	if s == "" {
		return ""
	}
	return "[" + s + "]"
}
