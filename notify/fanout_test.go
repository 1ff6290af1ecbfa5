package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/notify"
)

// queueEvents commits n events queued as a busy workflow queues them
// (events.Queue in its batch), each telling the head and the clerk.
func (w *world) queueEvents(e *notify.Engine, n int) {
	w.t.Helper()
	doc := w.document("Báo cáo tháng")
	err := w.db.InTx(w.ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		var left []events.Sent
		for i := range n {
			sent, err := events.Queue(e, &b, events.Event{Kind: events.DocumentApproved, OrganizationID: w.org.ID, DocumentID: doc,
				UserIDs: []string{w.id("head"), w.id("clerk")}, Summary: fmt.Sprintf("Văn bản được duyệt %d", i)})
			if err != nil {
				return err
			}
			left = append(left, sent)
		}
		if err := tx.SendBatch(w.ctx, &b).Close(); err != nil {
			return err
		}
		for _, s := range left {
			if err := s(w.ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// told is what the fan-out made: events still pending, notifications,
// distinct (event, person) notified, e-mail and webhook jobs, distinct jobs.
func (w *world) told() [6]int {
	w.t.Helper()
	return [6]int{
		w.count("SELECT count(*) FROM notify_events WHERE pending IS NOT NULL"),
		w.count("SELECT count(*) FROM notifications"),
		w.count("SELECT count(DISTINCT (event_id, user_id)) FROM notifications"),
		w.count("SELECT count(*) FROM river_job WHERE kind = 'notify-email'"),
		w.count("SELECT count(*) FROM river_job WHERE kind = 'webhook'"),
		w.count("SELECT count(DISTINCT (kind, args::text)) FROM river_job WHERE kind IN ('notify-email', 'webhook')"),
	}
}

// TestFanOutInterrupted: the process that fans out dies between the
// events' commit and the end of their fan-out (its statement cancelled, or
// its connection killed, while the notifications are being inserted). The
// fan-out's transaction is rolled back whole: no notification, no job,
// every event still pending. The next engine (a restart) tells each event
// exactly once, and a fan-out after it tells nobody again.
func TestFanOutInterrupted(t *testing.T) {
	for _, how := range []string{"cancel", "kill"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t)
			w.setEmail("head", true)
			if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO webhook_endpoints (organization_id, url, secret) VALUES ($1, 'https://hooks.xa.gov.vn/a', 'k')`, w.org.ID); err != nil {
				t.Fatal(err)
			}
			first := w.engine(notify.Config{}, false)
			const n = 5
			w.queueEvents(first, n)
			// The fan-out stops inside its insert of notifications until
			// it is interrupted.
			if _, err := w.db.Pool.Exec(w.ctx, `CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS
				$$BEGIN PERFORM pg_sleep(600); RETURN NULL; END$$;
				CREATE TRIGGER stall BEFORE INSERT ON notifications FOR EACH STATEMENT EXECUTE FUNCTION stall()`); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(w.ctx)
			defer cancel()
			done := make(chan error, 1)
			go func() { _, err := first.FanOut(ctx); done <- err }()
			var pid int
			eventually(t, "the fan-out stalls in its insert", func() bool {
				err := w.db.Pool.QueryRow(w.ctx, "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%INSERT INTO notifications%'").Scan(&pid)
				return err == nil
			})
			switch how {
			case "cancel":
				cancel()
			case "kill":
				if _, err := w.db.Pool.Exec(w.ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
					t.Fatal(err)
				}
			}
			if err := <-done; err == nil {
				t.Fatal("an interrupted fan-out reported success")
			}
			if got := w.told(); got != [6]int{n, 0, 0, 0, 0, 0} {
				t.Fatalf("after the interruption: %v; want %d events pending and nothing told", got, n)
			}
			if _, err := w.db.Pool.Exec(w.ctx, "DROP TRIGGER stall ON notifications"); err != nil {
				t.Fatal(err)
			}
			restarted := w.engine(notify.Config{}, false)
			for i, want := range []int{n, 0} {
				if got, err := restarted.FanOut(w.ctx); err != nil || got != want {
					t.Fatalf("fan-out %d after the restart: %d told (%v), want %d", i+1, got, err, want)
				}
			}
			// Each event: the head and the clerk told, the head mailed,
			// the endpoint called; each once.
			if got := w.told(); got != [6]int{0, 2 * n, 2 * n, n, n, 2 * n} {
				t.Errorf("after the restart: %v; want 0 pending, %d notifications (all distinct), %d e-mail and %d webhook jobs, all distinct", got, 2*n, n, n)
			}
		})
	}
}

// TestConcurrentFanOuts: two engines (two processes of the service) fan
// out the same pending events at once, four fan-outs in all, over more
// events than one batch holds, under -race: each event is told by exactly
// one of them, once.
func TestConcurrentFanOuts(t *testing.T) {
	w := newWorld(t)
	w.setEmail("clerk", true)
	a, b := w.engine(notify.Config{}, false), w.engine(notify.Config{}, false)
	const n = 450 // two full batches and a part
	w.queueEvents(a, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range 4 {
		e := []*notify.Engine{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			told, err := e.FanOut(w.ctx)
			if err != nil {
				t.Errorf("fan-out: %v", err)
			}
			mu.Lock()
			total += told
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != n {
		t.Errorf("%d events told in all, want %d", total, n)
	}
	if got := w.told(); got != [6]int{0, 2 * n, 2 * n, n, 0, n} {
		t.Errorf("%v; want nothing pending, %d notifications (all distinct), %d e-mail jobs (distinct), no webhook", got, 2*n, n)
	}
}

// TestStartedEngineFansOut: a running engine tells the people of queued
// events by itself, without being asked: the unread count reaches them
// (waited for, not expected at commit), and events left pending while no
// engine ran are told when one starts.
func TestStartedEngineFansOut(t *testing.T) {
	w := newWorld(t)
	idle := w.engine(notify.Config{}, false)
	w.queueEvents(idle, 3) // while nothing fans out
	if got := w.told()[0]; got != 3 {
		t.Fatalf("%d events pending, want 3", got)
	}
	running := w.engine(notify.Config{}, true)
	w.queueEvents(running, 2)
	eventually(t, "the head's five notifications", func() bool {
		page, err := running.Notifications(w.ctx, w.people["head"], "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return page.Unread == 5 && len(page.Items) == 5
	})
	if got := w.told(); got[0] != 0 || got[1] != 10 || got[2] != 10 {
		t.Errorf("%v; want nothing pending, ten distinct notifications", got)
	}
}
