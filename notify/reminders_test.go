package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/notify"
)

// A chain stage due on Thursday reminds its participant on Wednesday (due
// next working day), Thursday (today) and every working day after while
// overdue, once a day however often the scan runs and across a restart,
// never on a day off, and the unit head too from the second overdue day.
func TestRemindersOncePerWorkingDay(t *testing.T) {
	w := newWorld(t)
	doc := w.document("Tờ trình xin ý kiến")
	due := time.Date(2025, 3, 6, 17, 0, 0, 0, calendar.Vietnam) // Thursday
	if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO inbox_items (organization_id, user_id, document_id, source, label, task, due_at)
		VALUES ($1, $2, $3, 'chain', 'Kiểm tra', 'check', $4)`, w.org.ID, w.id("drafter"), doc, due); err != nil {
		t.Fatal(err)
	}
	cfg := notify.Config{Deadlines: []notify.Deadlines{notify.ChainDeadlines{}}, ReminderEvery: time.Hour}
	e := w.engine(cfg, true)
	told := func(name string) int {
		return w.count("SELECT count(*) FROM notifications WHERE user_id = $1", w.id(name))
	}
	steps := []struct {
		day        int // of March 2025
		drafter    int // notifications so far
		head       int
		latestKind string
	}{
		{4, 0, 0, ""},                   // Tuesday: two working days ahead
		{5, 1, 0, "reminder.due-soon"},  // Wednesday
		{6, 2, 0, "reminder.due-today"}, // Thursday
		{7, 3, 0, "document.overdue"},   // Friday: one day overdue
		{8, 3, 0, ""},                   // Saturday: day off
		{9, 3, 0, ""},                   // Sunday
		{10, 4, 1, "document.overdue"},  // Monday: two days overdue, the head too
	}
	for _, s := range steps {
		for _, hour := range []int{8, 14} { // two scans a day
			w.setClock(time.Date(2025, 3, s.day, hour, 0, 0, 0, calendar.Vietnam))
			if _, err := e.ScanReminders(w.ctx); err != nil {
				t.Fatal(err)
			}
			w.settled()
		}
		if got := told("drafter"); got != s.drafter {
			t.Fatalf("March %d: drafter told %d times, want %d", s.day, got, s.drafter)
		}
		if got := told("head"); got != s.head {
			t.Fatalf("March %d: head told %d times, want %d", s.day, got, s.head)
		}
		if s.latestKind != "" {
			var kind string
			if err := w.db.Pool.QueryRow(w.ctx, "SELECT kind FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1", w.id("drafter")).Scan(&kind); err != nil {
				t.Fatal(err)
			}
			if kind != s.latestKind {
				t.Fatalf("March %d: latest reminder %s, want %s", s.day, kind, s.latestKind)
			}
		}
	}
	// A restart the same day: a new engine scans again and tells nobody twice.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	e2 := w.engine(cfg, true)
	if _, err := e2.ScanReminders(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.settled()
	if told("drafter") != 4 || told("head") != 1 {
		t.Fatalf("after a restart: drafter %d, head %d", told("drafter"), told("head"))
	}
	// Done: no more reminders.
	if _, err := w.db.Pool.Exec(w.ctx, "UPDATE inbox_items SET state = 'done', done_at = now()"); err != nil {
		t.Fatal(err)
	}
	w.setClock(time.Date(2025, 3, 11, 9, 0, 0, 0, calendar.Vietnam))
	if n, err := e2.ScanReminders(w.ctx); err != nil || n != 0 {
		t.Fatalf("after completion: %d queued, %v", n, err)
	}
}

// A batch of reminders fans out as Publish does: an e-mail job for each
// person told who chose e-mail, a webhook job per endpoint of the
// organisation for an item's first overdue day only, each queued once
// however often the day is scanned.
func TestReminderBatchFansOut(t *testing.T) {
	w := newWorld(t)
	doc := w.document("Báo cáo quá hạn")
	w.setEmail("drafter", true)
	if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO webhook_endpoints (organization_id, url, secret) VALUES ($1, 'https://hooks.example/x', '\x00')`, w.org.ID); err != nil {
		t.Fatal(err)
	}
	// Two items of the drafter: one overdue since Thursday (its first
	// overdue day is Friday), one since Tuesday (three days by Friday).
	for _, due := range []time.Time{time.Date(2025, 3, 6, 17, 0, 0, 0, calendar.Vietnam), time.Date(2025, 3, 4, 17, 0, 0, 0, calendar.Vietnam)} {
		if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO inbox_items (organization_id, user_id, document_id, source, label, task, due_at)
			VALUES ($1, $2, $3, 'chain', 'Kiểm tra', 'check', $4)`, w.org.ID, w.id("drafter"), doc, due); err != nil {
			t.Fatal(err)
		}
	}
	// No SMTP server and an endpoint that is never reached: the jobs wait,
	// and the test counts them.
	e := w.engine(notify.Config{Deadlines: []notify.Deadlines{notify.ChainDeadlines{}}, ReminderEvery: time.Hour}, true)
	w.setClock(time.Date(2025, 3, 7, 9, 0, 0, 0, calendar.Vietnam)) // Friday
	for range 2 {
		if _, err := e.ScanReminders(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	jobs := func(kind string) int {
		return w.count("SELECT count(*) FROM river_job WHERE kind = $1", kind)
	}
	eventually(t, "two reminders told", func() bool {
		return w.count("SELECT count(*) FROM notifications WHERE user_id = $1", w.id("drafter")) == 2
	})
	eventually(t, "the batch worked", func() bool {
		return w.count("SELECT count(*) FROM river_job WHERE kind = 'reminder-batch' AND state <> 'completed'") == 0
	})
	if n := jobs("notify-email"); n != 2 {
		t.Fatalf("%d e-mail jobs, want one per reminder", n)
	}
	if n := jobs("webhook"); n != 1 {
		t.Fatalf("%d webhook jobs, want one: the first overdue day's", n)
	}
	if n := w.count("SELECT count(*) FROM notify_events WHERE kind = 'document.overdue' AND organization_id IS NOT NULL"); n != 1 {
		t.Fatalf("%d overdue events for webhooks", n)
	}
	if n, err := e.ScanReminders(w.ctx); err != nil || n != 0 {
		t.Fatalf("a third scan of the day queued %d: %v", n, err)
	}
}
