package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// The handling of incoming documents is reminded like a chain stage: a
// handler's lead part due on Thursday reminds the handler on Wednesday,
// Thursday and every working day while overdue, and the unit's head from
// the second overdue day; a unit's part with no handler yet reminds each of
// the unit's heads (each escalating to the other); a completed part
// reminds nobody.
func TestHandlingReminders(t *testing.T) {
	w := newWorld(t)
	w.person("deputy", storage.RoleReviewer)                    // a second head of the unit
	due := time.Date(2025, 3, 6, 17, 0, 0, 0, calendar.Vietnam) // Thursday
	inHandling := func(subject string) string {
		t.Helper()
		doc := w.document(subject)
		if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO document_handling (document_id, organization_id, status, received_at, due_at)
			VALUES ($1, $2, 'assigned', now(), $3)`, doc, w.org.ID, due); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	assign := func(doc, parent, unit, user, role string, done bool) string {
		t.Helper()
		var id string
		if err := w.db.Pool.QueryRow(w.ctx, `INSERT INTO assignments (organization_id, document_id, parent_id, unit_id, user_id, role, state,
				assigned_by, assigned_at, due_at, completed_at, completed_by)
			VALUES ($1, $2, nullif($3, '')::uuid, nullif($4, '')::uuid, nullif($5, '')::uuid, $6,
				CASE WHEN $7 THEN 'done' ELSE 'open' END, $8, now(), $9,
				CASE WHEN $7 THEN now() END, CASE WHEN $7 THEN $8::uuid END) RETURNING id`,
			w.org.ID, doc, parent, unit, user, role, done, w.id("head"), due).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// The unit leads; its head gave the drafter as handler.
	lead := inHandling("Công văn xin ý kiến về quy hoạch")
	assign(lead, assign(lead, "", w.unit.ID, "", "lead", false), "", w.id("drafter"), "lead", false)
	// The unit coordinates on another document and has no handler yet.
	coordinate := inHandling("Kế hoạch phòng chống thiên tai")
	assign(coordinate, "", w.unit.ID, "", "coordinate", false)
	// A part already completed.
	done := inHandling("Thông báo đã xử lý xong")
	assign(done, "", "", w.id("drafter"), "lead", true)

	e := w.engine(notify.Config{Deadlines: []notify.Deadlines{notify.HandlingDeadlines{}}, ReminderEvery: time.Hour}, true)
	told := func(doc string, names ...string) int {
		ids := make([]string, len(names))
		for i, n := range names {
			ids[i] = w.id(n)
		}
		return w.count("SELECT count(*) FROM notifications WHERE document_id = $1 AND user_id = ANY($2::uuid[])", doc, ids)
	}
	steps := []struct {
		day        int // of March 2025
		drafter    int // told of the lead part so far
		escalated  int // a head told of the lead part
		head       int // told of the coordinating part, each head
		latestKind string
	}{
		{4, 0, 0, 0, ""},                   // Tuesday: two working days ahead
		{5, 1, 0, 1, "reminder.due-soon"},  // Wednesday
		{6, 2, 0, 2, "reminder.due-today"}, // Thursday
		{7, 3, 0, 3, "document.overdue"},   // Friday: one day overdue
		{8, 3, 0, 3, ""},                   // Saturday: day off
		{9, 3, 0, 3, ""},                   // Sunday
		{10, 4, 1, 5, "document.overdue"},  // Monday: two days overdue, escalated
	}
	for _, s := range steps {
		for _, hour := range []int{8, 14} { // two scans a day
			w.setClock(time.Date(2025, 3, s.day, hour, 0, 0, 0, calendar.Vietnam))
			if _, err := e.ScanReminders(w.ctx); err != nil {
				t.Fatal(err)
			}
			w.settled()
		}
		if got := told(lead, "drafter"); got != s.drafter {
			t.Fatalf("March %d: handler told %d times, want %d", s.day, got, s.drafter)
		}
		if got := told(lead, "head", "deputy"); got != s.escalated {
			t.Fatalf("March %d: heads told of the handler's part %d times, want %d", s.day, got, s.escalated)
		}
		for _, h := range []string{"head", "deputy"} {
			if got := told(coordinate, h); got != s.head {
				t.Fatalf("March %d: %s told of the unit's part %d times, want %d", s.day, h, got, s.head)
			}
		}
		if got := told(done, "drafter", "head", "deputy", "clerk", "admin"); got != 0 {
			t.Fatalf("March %d: a completed part reminded %d times", s.day, got)
		}
		if got := told(coordinate, "drafter", "clerk", "admin"); got != 0 {
			t.Fatalf("March %d: the unit's part reminded %d people outside its heads", s.day, got)
		}
		if s.latestKind != "" {
			var kind, summary string
			if err := w.db.Pool.QueryRow(w.ctx, "SELECT kind, summary FROM notifications WHERE user_id = $1 AND document_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
				w.id("drafter"), lead).Scan(&kind, &summary); err != nil {
				t.Fatal(err)
			}
			if kind != s.latestKind {
				t.Fatalf("March %d: latest reminder %s, want %s", s.day, kind, s.latestKind)
			}
			if !strings.Contains(summary, "Công văn xin ý kiến về quy hoạch — chủ trì xử lý") {
				t.Fatalf("March %d: reminder says %q", s.day, summary)
			}
		}
	}
	var summary string
	if err := w.db.Pool.QueryRow(w.ctx, "SELECT summary FROM notifications WHERE document_id = $1 LIMIT 1", coordinate).Scan(&summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "Kế hoạch phòng chống thiên tai — phối hợp xử lý") {
		t.Fatalf("the unit's part's reminder says %q", summary)
	}
	// Completed: no more reminders.
	if _, err := w.db.Pool.Exec(w.ctx, "UPDATE assignments SET state = 'done', completed_at = now(), completed_by = $1 WHERE state = 'open'", w.id("head")); err != nil {
		t.Fatal(err)
	}
	w.setClock(time.Date(2025, 3, 11, 9, 0, 0, 0, calendar.Vietnam))
	if n, err := e.ScanReminders(w.ctx); err != nil || n != 0 {
		t.Fatalf("after completion: %d queued, %v", n, err)
	}
}
