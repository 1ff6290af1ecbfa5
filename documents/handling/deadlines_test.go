package handling_test

import (
	"testing"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/storage"
)

// TestDeadlines lists what is due and overdue on working days around Tết,
// with whom to remind and to whom an overdue part escalates.
func TestDeadlines(t *testing.T) {
	w := newWorld(t)
	doc := w.incoming() // Wednesday 3 February 2027, the day before Tết
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), doc.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UnitID: w.units["TP"].ID, Role: handling.RoleLead, Due: days(3)},      // Wednesday 17 February
		{UserID: w.id("staffKT"), Role: handling.RoleCoordinate, Due: days(1)}, // Monday 15 February
		{UnitID: w.units["KT"].ID, Role: handling.RoleInform}}}); err != nil {  // never reminded
		t.Fatal(err)
	}
	other := w.incoming()
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), other.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UnitID: w.units["KT"].ID, Role: handling.RoleLead, Due: days(2)}}}); err != nil { // Tuesday 16 February
		t.Fatal(err)
	}
	cal, err := calendar.Load(w.ctx, w.db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		assignee string
		overdue  int
	}
	list := func(day string, ahead int) []row {
		t.Helper()
		ds, err := handling.Deadlines(w.ctx, w.db.Pool, cal, vn(day+" 07:00"), ahead)
		if err != nil {
			t.Fatal(err)
		}
		var out []row
		for _, d := range ds {
			name := ""
			for n, p := range w.people {
				if len(d.Assignees) == 1 && p.ID == d.Assignees[0] {
					name = n
				}
			}
			out = append(out, row{name, d.WorkingDaysOverdue})
		}
		return out
	}
	eq := func(got, want []row) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	for _, c := range []struct {
		day   string
		ahead int
		want  []row
	}{
		{"2027-02-10", 0, nil},                                                 // in Tết nothing is due
		{"2027-02-10", 1, []row{{"staffKT", -1}}},                              // the next working day is 15 February
		{"2027-02-15", 0, []row{{"staffKT", 0}}},                               // due today
		{"2027-02-16", 0, []row{{"staffKT", 1}, {"headKT", 0}}},                // KT's lead part goes to its head
		{"2027-02-18", 0, []row{{"staffKT", 3}, {"headKT", 2}, {"headTP", 1}}}, // overdue by working days
	} {
		if got := list(c.day, c.ahead); !eq(got, c.want) {
			t.Errorf("%s (+%d): %v, want %v", c.day, c.ahead, got, c.want)
		}
	}

	// Once TP's head gives a handler, the handler is reminded and TP's
	// head is whom it escalates to; completed parts leave the list.
	w.set(vn("2027-02-15 09:00"))
	if _, err := w.svc.Assign(w.ctx, w.p("headTP"), doc.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UserID: w.id("handlerTP")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Complete(w.ctx, w.p("staffKT"), doc.ID, handling.CompleteRequest{}); err != nil {
		t.Fatal(err)
	}
	ds, err := handling.Deadlines(w.ctx, w.db.Pool, cal, vn("2027-02-18 07:00"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[1].Assignees[0] != w.id("handlerTP") || len(ds[1].UnitHeads) != 1 || ds[1].UnitHeads[0] != w.id("headTP") ||
		ds[1].WorkingDaysOverdue != 1 || ds[1].DocumentID != doc.ID || ds[1].Role != handling.RoleLead {
		t.Fatalf("after a handler: %+v", ds)
	}
	// Paging reads every part exactly once.
	var seen []string
	var after *handling.Cursor
	for {
		page, next, err := handling.DeadlinesPage(w.ctx, w.db.Pool, cal, vn("2027-02-18 07:00"), 0, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			seen = append(seen, d.AssignmentID)
		}
		if next == nil {
			break
		}
		after = next
	}
	if len(seen) != 2 || seen[0] != ds[0].AssignmentID || seen[1] != ds[1].AssignmentID {
		t.Fatalf("paged %v, listed %+v", seen, ds)
	}
	_ = storage.ErrNotFound
}
