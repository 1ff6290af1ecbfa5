package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/notify"
)

// Queued events ride in the caller's batch: what the batch holds besides
// them, before and after, is sent with them in one round trip, and each
// event stands on its own. The caller's transaction records only the
// events: their people are told by the fan-out, after the commit, each
// event once (its own notifications, e-mail and webhook jobs; a second
// fan-out tells nobody again). Left before the batch was sent, Sent
// refuses; a batch that fails leaves nothing of its events.
func TestQueuedEventsRideTheCallersBatch(t *testing.T) {
	w := newWorld(t)
	e := w.engine(notify.Config{}, false)
	w.setEmail("head", true)
	w.setEmail("clerk", false)
	if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO webhook_endpoints (organization_id, url, secret) VALUES ($1, 'https://hooks.xa.gov.vn/a', 'k'), ($1, 'https://hooks.xa.gov.vn/b', 'k')`, w.org.ID); err != nil {
		t.Fatal(err)
	}
	doc := w.document("Kế hoạch năm")
	queue := func(b *pgx.Batch, kind events.Kind, org string, users ...string) events.Sent {
		t.Helper()
		sent, err := events.Queue(e, b, events.Event{Kind: kind, OrganizationID: org, DocumentID: doc, UserIDs: users, Summary: string(kind)})
		if err != nil || sent == nil {
			t.Fatalf("queue %s: %v", kind, err)
		}
		return sent
	}
	var ran []string
	err := w.db.InTx(w.ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue("SELECT 'before'").QueryRow(func(r pgx.Row) error { var s string; err := r.Scan(&s); ran = append(ran, s); return err })
		first := queue(&b, events.DocumentSubmitted, w.org.ID, w.id("head"), w.id("clerk"))
		second := queue(&b, events.DocumentApproved, "", w.id("head"))
		b.Queue("SELECT 'after'").QueryRow(func(r pgx.Row) error { var s string; err := r.Scan(&s); ran = append(ran, s); return err })
		if err := first(w.ctx, tx); err == nil || !strings.Contains(err.Error(), "not sent") {
			t.Errorf("jobs queued before the batch was sent: %v", err)
		}
		if err := tx.SendBatch(w.ctx, &b).Close(); err != nil {
			return err
		}
		if err := first(w.ctx, tx); err != nil {
			return err
		}
		return second(w.ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ran, ",") != "before,after" {
		t.Errorf("the caller's statements: %v", ran)
	}
	// Committed: the events, nobody told yet, both pending.
	if got := [3]int{w.count("SELECT count(*) FROM notify_events WHERE pending IS NOT NULL"), w.count("SELECT count(*) FROM notifications"),
		w.count("SELECT count(*) FROM river_job WHERE kind IN ('notify-email', 'webhook')")}; got != [3]int{2, 0, 0} {
		t.Errorf("at commit: %v pending events, notifications, jobs; want 2, 0, 0", got)
	}
	for i, want := range []int{2, 0} {
		if told, err := e.FanOut(w.ctx); err != nil || told != want {
			t.Fatalf("fan-out %d: %d events told (%v), want %d", i+1, told, err, want)
		}
	}
	for _, c := range []struct {
		what  string
		query string
		want  int
	}{
		{"events", "SELECT count(*) FROM notify_events", 2},
		{"events pending", "SELECT count(*) FROM notify_events WHERE pending IS NOT NULL", 0},
		{"notifications", "SELECT count(*) FROM notifications", 3},
		{"head's unread", "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", 2},
		// The head chose e-mail (both events), the clerk did not; the
		// organisation's two endpoints hear the first event only (the
		// second names no organisation).
		{"e-mail jobs", "SELECT count(*) FROM river_job WHERE kind = 'notify-email' AND args->>'user_id' = $1::text", 2},
		{"e-mail jobs, all", "SELECT count(*) FROM river_job WHERE kind = 'notify-email'", 2},
		{"webhook jobs", "SELECT count(*) FROM river_job WHERE kind = 'webhook'", 2},
		{"distinct jobs", "SELECT count(DISTINCT args::text) FROM river_job WHERE kind IN ('notify-email', 'webhook')", 4},
	} {
		var args []any
		if strings.Contains(c.query, "$1") {
			args = append(args, w.id("head"))
		}
		if got := w.count(c.query, args...); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}

	// A batch that fails (here a statement after the events) is rolled
	// back with its events: nothing is left to fan out.
	err = w.db.InTx(w.ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		queue(&b, events.DocumentSigned, w.org.ID, w.id("head"))
		b.Queue("SELECT 1/0")
		return tx.SendBatch(context.Background(), &b).Close()
	})
	if err == nil {
		t.Fatal("a failed batch committed")
	}
	if n := w.count("SELECT count(*) FROM notify_events WHERE kind = $1", string(events.DocumentSigned)); n != 0 {
		t.Errorf("%d events of a failed batch", n)
	}
	// Someone the event names who is not a user (the caller's mistake) is
	// not told; the event's others are, and its fan-out does not fail: a
	// pending event must never stop those after it. (At commit nobody's
	// existence is checked: that is the check the fan-out took out of the
	// queuing transaction.)
	err = w.db.InTx(w.ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		sent := queue(&b, events.DocumentSigned, w.org.ID, w.id("head"), "00000000-0000-0000-0000-000000000001")
		if err := tx.SendBatch(w.ctx, &b).Close(); err != nil {
			return err
		}
		return sent(w.ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if told, err := e.FanOut(w.ctx); err != nil || told != 1 {
		t.Fatalf("fan-out: %d events told (%v), want 1", told, err)
	}
	if n := w.count("SELECT count(*) FROM notifications n JOIN notify_events ev ON ev.id = n.event_id WHERE ev.kind = $1", string(events.DocumentSigned)); n != 1 {
		t.Errorf("%d told of the signed event, want 1 (the head)", n)
	}
}
