package chain_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/notify"
)

// office is the notifications engine wired into the world's chain as
// serve wires it (notify.New over the service's pool, the chain's and
// handling's deadlines as reminder sources), with every person of the
// organisation choosing e-mail and one webhook endpoint of the
// organisation, so that an approval takes every path of Publish: its
// event, the in-app notifications, e-mail jobs and a webhook job.
// Started, it runs the jobs as the service does, against an in-process
// SMTP server and webhook receiver; hooks counts what reached the latter.
type office struct {
	engine *notify.Engine
	hooks  atomic.Int64
}

// notifying wires the engine; call it after the world's pool is chosen
// (widePool, traced): the engine uses the pool the services use.
func (w *world) notifying(tb testing.TB, start bool) *office { return w.publishing(tb, start, true) }

// publishing wires the notifications engine as serve does; with outside,
// every person chooses e-mail and the organisation has a webhook endpoint;
// without, the office notifies in the application only (nobody has chosen
// e-mail, no endpoint: what an office has until it sets them up).
func (w *world) publishing(tb testing.TB, start, outside bool) *office {
	tb.Helper()
	o := &office{}
	smtpd := testharness.SMTP(tb)
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		o.hooks.Add(1)
		rw.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(receiver.Close)
	cfg := notify.Config{Mail: notify.MailConfig{Addr: smtpd.Addr, From: "vanthu@xa.gov.vn"},
		Deadlines: []notify.Deadlines{notify.ChainDeadlines{}, notify.HandlingDeadlines{}}}
	// VANTHU_BENCH_FANOUT_DELAY (a duration) changes how long the fan-out
	// gathers events after a wake-up (the engine's default otherwise), to
	// compare small, steady fan-out transactions with larger, rarer ones.
	if v := os.Getenv("VANTHU_BENCH_FANOUT_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			tb.Fatalf("VANTHU_BENCH_FANOUT_DELAY=%q: a duration such as 10ms", v)
		}
		cfg.FanOutDelay = d
	}
	e, err := notify.New(w.db, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if outside {
		if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO notification_preferences (user_id, email, email_on)
		SELECT id, username || '@xa.gov.vn', true FROM users WHERE organization_id = $1`, w.org.ID); err != nil {
			tb.Fatal(err)
		}
		// The receiver listens on loopback, which an endpoint must be allowed.
		if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO webhook_endpoints (organization_id, url, secret, allow_private)
		VALUES ($1, $2, sha256(gen_random_uuid()::text::bytea), true)`, w.org.ID, receiver.URL+"/vanthu"); err != nil {
			tb.Fatal(err)
		}
	}
	if start {
		if err := e.Start(context.WithoutCancel(w.ctx)); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.Stop(ctx); err != nil {
				tb.Errorf("stop the jobs: %v", err)
			}
		})
	}
	o.engine = e
	w.svc.Events = e
	return o
}

func (w *world) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := w.db.Pool.QueryRow(w.ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestConcurrentApprovalsNotifyOnce: approvals published through the
// batched path, two attempts at each document at once, under -race: the
// attempt that loses finds no turn and publishes nothing, the one that
// wins commits one event (pending), and the engine's fan-out, after the
// commits, tells the drafter and the signer (one unread notification each
// per document), with one e-mail job per person told and one webhook job;
// a job is never queued twice, and a second fan-out tells nobody again.
func TestConcurrentApprovalsNotifyOnce(t *testing.T) {
	w := newWorld(t)
	const docs = 24
	w.inFlight(t, docs, []string{"reviewer", "reviewer2"})
	o := w.notifying(t, false)
	ids := w.openDocuments(t)
	if len(ids) != docs {
		t.Fatalf("%d documents in flight", len(ids))
	}
	var wg sync.WaitGroup
	var won, lost atomic.Int64
	for i, id := range ids {
		who := []string{"reviewer", "reviewer2"}[i%2]
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.svc.Act(w.ctx, w.p(who), id, chain.ActionRequest{Action: chain.ActionApprove}, "")
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, chain.ErrConflict):
					lost.Add(1)
				default:
					t.Errorf("approve %s: %v", id, err)
				}
			}()
		}
	}
	wg.Wait()
	if won.Load() != docs || lost.Load() != docs {
		t.Fatalf("%d approvals made, %d refused; want %d each", won.Load(), lost.Load(), docs)
	}
	if n := w.count(t, "SELECT count(*) FROM notify_events WHERE pending IS NOT NULL"); n != docs {
		t.Errorf("%d events pending at commit, want %d", n, docs)
	}
	for i, want := range []int{docs, 0} {
		if told, err := o.engine.FanOut(w.ctx); err != nil || told != want {
			t.Fatalf("fan-out %d: %d events told (%v), want %d", i+1, told, err, want)
		}
	}
	drafter, signer := w.id("drafter"), w.id("signer")
	checks := []struct {
		what  string
		query string
		args  []any
		want  int
	}{
		{"events", "SELECT count(*) FROM notify_events WHERE kind = 'document.approved'", nil, docs},
		{"documents with one event", "SELECT count(*) FROM (SELECT document_id FROM notify_events GROUP BY document_id HAVING count(*) = 1) d", nil, docs},
		{"drafter's unread", "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", []any{drafter}, docs},
		{"signer's unread", "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", []any{signer}, docs},
		{"notifications", "SELECT count(*) FROM notifications", nil, 2 * docs},
		{"the reviewers told", "SELECT count(*) FROM notifications WHERE user_id NOT IN ($1, $2)", []any{drafter, signer}, 0},
		{"e-mail jobs", "SELECT count(*) FROM river_job WHERE kind = 'notify-email'", nil, 2 * docs},
		{"webhook jobs", "SELECT count(*) FROM river_job WHERE kind = 'webhook'", nil, docs},
		{"distinct jobs", "SELECT count(DISTINCT (kind, args::text)) FROM river_job WHERE kind IN ('notify-email', 'webhook')", nil, 3 * docs},
		{"e-mail jobs of unknown events", "SELECT count(*) FROM river_job j WHERE kind = 'notify-email' AND NOT EXISTS (SELECT 1 FROM notify_events e WHERE e.id = (j.args->>'event_id')::uuid)", nil, 0},
	}
	for _, c := range checks {
		if got := w.count(t, c.query, c.args...); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
}

// TestFailedApprovalPublishesNothing: an approval whose batch fails after
// its event's statement ran (the audit entry, queued after it, refused by
// a trigger) is rolled back whole: no event is left, so the fan-out makes
// no notification or job; the same approval made again publishes once.
func TestFailedApprovalPublishesNothing(t *testing.T) {
	w := newWorld(t)
	w.inFlight(t, 1, []string{"reviewer"})
	o := w.notifying(t, false)
	doc := w.openDocuments(t)[0]
	if _, err := w.db.Pool.Exec(w.ctx, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
		$$BEGIN RAISE EXCEPTION 'audit refused'; END$$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_pending FOR EACH ROW EXECUTE FUNCTION refuse_audit()`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.act("reviewer", doc, chain.ActionRequest{Action: chain.ActionApprove}); err == nil {
		t.Fatal("the approval was made though its audit entry was refused")
	}
	published := func() [3]int {
		if _, err := o.engine.FanOut(w.ctx); err != nil {
			t.Fatal(err)
		}
		return [3]int{w.count(t, "SELECT count(*) FROM notify_events"), w.count(t, "SELECT count(*) FROM notifications"),
			w.count(t, "SELECT count(*) FROM river_job WHERE kind IN ('notify-email', 'webhook')")}
	}
	if got := published(); got != [3]int{} {
		t.Fatalf("a failed approval left events, notifications, jobs: %v", got)
	}
	if _, err := w.db.Pool.Exec(w.ctx, "DROP TRIGGER refuse_audit ON audit_pending"); err != nil {
		t.Fatal(err)
	}
	w.must("reviewer", doc, chain.ActionRequest{Action: chain.ActionApprove})
	if got := published(); got != [3]int{1, 2, 3} {
		t.Fatalf("events, notifications, jobs: %v, want 1, 2 and 3", got)
	}
}

func (w *world) openDocuments(tb testing.TB) []string {
	tb.Helper()
	rows, err := w.db.Pool.Query(w.ctx, "SELECT document_id::text FROM inbox_items WHERE state = 'open' ORDER BY document_id")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
