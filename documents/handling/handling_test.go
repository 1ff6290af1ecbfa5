package handling_test

import (
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// TestAssignmentTree walks a document from presenting to completion: the
// leader gives a lead unit, a coordinating person and an informed unit
// with deadlines counted over Tết, the unit head a handler inside the
// unit's deadline; refusals at each step name the rule.
func TestAssignmentTree(t *testing.T) {
	w := newWorld(t)
	doc := w.incoming()
	tp, kt, vp := w.units["TP"].ID, w.units["KT"].ID, w.units["VP"].ID

	if _, err := w.svc.Present(w.ctx, w.p("drafter"), doc.ID, handling.PresentRequest{UserID: w.id("leader")}); !isForbidden(err) {
		t.Fatalf("a drafter presents: %v", err)
	}
	if _, err := w.svc.Present(w.ctx, w.p("clerk"), doc.ID, handling.PresentRequest{UserID: w.id("headTP")}); !isInvalid(err) {
		t.Fatalf("presented to a non-leader: %v", err)
	}
	if _, err := w.svc.Present(w.ctx, w.p("clerk"), doc.ID, handling.PresentRequest{UserID: w.id("leader")}); err != nil {
		t.Fatal(err)
	}
	if c := w.inbox("leader", ""); c.Open != 1 {
		t.Fatalf("the leader's inbox after presenting: %+v", c)
	}

	tree := handling.AssignRequest{Direction: "Phòng TP chủ trì, phối hợp với đồng chí KT, báo cáo trước Tết", Assignments: []handling.AssignmentRequest{
		{UnitID: tp, Role: handling.RoleLead, Due: days(3)},
		{UserID: w.id("staffKT"), Role: handling.RoleCoordinate, Due: days(2)},
		{UnitID: kt, Role: handling.RoleInform}}}
	refusals := []struct {
		who  string
		req  handling.AssignRequest
		want func(error) bool
	}{
		{"drafter", tree, isForbidden},
		{"auditor", tree, isForbidden},
		{"otherLeader", tree, isNotFound},
		{"leader", handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UnitID: tp, Role: handling.RoleCoordinate}}}, isInvalid},
		{"leader", handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UnitID: tp, Role: handling.RoleLead}, {UnitID: kt, Role: handling.RoleLead}}}, isInvalid},
		{"leader", handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UnitID: vp, Role: handling.RoleLead}}}, isInvalid}, // VP has no head
		{"leader", handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UnitID: tp, UserID: w.id("headTP"), Role: handling.RoleLead}}}, isInvalid},
		{"leader", handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UserID: w.id("otherLeader"), Role: handling.RoleLead}}}, isInvalid},
		{"leader", handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UnitID: tp, Role: "boss"}}}, isInvalid},
	}
	for i, r := range refusals {
		if _, err := w.svc.Assign(w.ctx, w.p(r.who), doc.ID, r.req); !r.want(err) {
			t.Errorf("refusal %d by %s: %v", i, r.who, err)
		}
	}
	v, err := w.svc.Assign(w.ctx, w.p("leader"), doc.ID, tree)
	if err != nil {
		t.Fatal(err)
	}
	// Three working days from Wednesday 3 February 2027 skip Tết (4–12
	// February) and the weekends: Monday 15, Tuesday 16, Wednesday 17.
	if want := vn("2027-02-17 17:00"); v.Status != handling.StatusAssigned || v.Due == nil || !v.Due.Equal(want) {
		t.Fatalf("document after assigning: status %s, due %v, want %v", v.Status, v.Due, want)
	}
	if len(v.Assignments) != 3 || !v.Assignments[1].DueAt.Equal(vn("2027-02-16 17:00")) || v.Assignments[2].DueAt != nil {
		t.Fatalf("assignments: %+v", v.Assignments)
	}
	if v.Direction != tree.Direction {
		t.Fatalf("direction %q", v.Direction)
	}
	for name, want := range map[string]storage.InboxCounts{
		"leader":  {Handled: 1},
		"headTP":  {Open: 1},
		"staffKT": {Open: 1},
		"headKT":  {ForInformation: 1},
	} {
		if c := w.inbox(name, ""); c.Open != want.Open || c.Handled != want.Handled || c.ForInformation != want.ForInformation {
			t.Errorf("%s's inbox: %+v, want %+v", name, c, want)
		}
	}
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), doc.ID, tree); !isConflict(err) {
		t.Fatalf("a second lead: %v", err)
	}

	// The unit head gives a handler inside the unit's deadline.
	handler := func(user string, due *handling.Due) handling.AssignRequest {
		return handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UserID: w.id(user), Due: due}}}
	}
	if _, err := w.svc.Assign(w.ctx, w.p("headKT"), doc.ID, handler("staffKT", nil)); !isForbidden(err) {
		t.Fatalf("a head whose unit is only informed assigns: %v", err)
	}
	if _, err := w.svc.Assign(w.ctx, w.p("headTP"), doc.ID, handler("staffKT", nil)); !isInvalid(err) {
		t.Fatalf("a handler from another unit: %v", err)
	}
	if _, err := w.svc.Assign(w.ctx, w.p("headTP"), doc.ID, handler("handlerTP", &handling.Due{Date: "2027-02-18"})); !isInvalid(err) {
		t.Fatalf("a handler's deadline after the unit's: %v", err)
	}
	if v, err = w.svc.Assign(w.ctx, w.p("headTP"), doc.ID, handler("handlerTP", days(2))); err != nil {
		t.Fatal(err)
	}
	if a := v.Assignments[3]; a.UserID != w.id("handlerTP") || a.ParentID != v.Assignments[0].ID || a.Role != handling.RoleLead || !a.DueAt.Equal(vn("2027-02-16 17:00")) {
		t.Fatalf("the handler's assignment: %+v", a)
	}
	if _, err := w.svc.Assign(w.ctx, w.p("headTP"), doc.ID, handler("handlerTP", nil)); !isConflict(err) {
		t.Fatalf("a second handler: %v", err)
	}
	if c := w.inbox("headTP", ""); c.Open != 0 || c.Handled != 1 {
		t.Fatalf("the head's inbox after passing it on: %+v", c)
	}
	if c := w.inbox("handlerTP", ""); c.Open != 1 {
		t.Fatalf("the handler's inbox: %+v", c)
	}

	// Progress and completion.
	w.set(vn("2027-02-15 10:00"))
	if _, err := w.svc.Progress(w.ctx, w.p("headKT"), doc.ID, handling.ProgressRequest{Note: "đã đọc"}); !isForbidden(err) {
		t.Fatalf("progress by an informed head: %v", err)
	}
	if _, err := w.svc.Progress(w.ctx, w.p("handlerTP"), doc.ID, handling.ProgressRequest{Note: " "}); !isInvalid(err) {
		t.Fatalf("progress without a note: %v", err)
	}
	if _, err := w.svc.Progress(w.ctx, w.p("handlerTP"), doc.ID, handling.ProgressRequest{Note: "Đã dự thảo báo cáo"}); err != nil {
		t.Fatal(err)
	}
	if v, err = w.svc.Complete(w.ctx, w.p("staffKT"), doc.ID, handling.CompleteRequest{Note: "Đã góp ý"}); err != nil {
		t.Fatal(err)
	}
	if v.Status != handling.StatusAssigned || v.Assignments[1].State != "done" {
		t.Fatalf("after the coordinating part: %s %+v", v.Status, v.Assignments[1])
	}
	reply := w.document("handlerTP", "TP")
	for _, bad := range []string{doc.ID, w.otherDocument().ID, "not-a-uuid"} {
		if _, err := w.svc.Complete(w.ctx, w.p("handlerTP"), doc.ID, handling.CompleteRequest{ReplyDocumentID: bad}); !isInvalid(err) {
			t.Errorf("reply %s: %v", bad, err)
		}
	}
	if v, err = w.svc.Complete(w.ctx, w.p("handlerTP"), doc.ID, handling.CompleteRequest{Note: "Đã trả lời", ReplyDocumentID: reply.ID}); err != nil {
		t.Fatal(err)
	}
	if v.Status != handling.StatusCompleted || v.ReplyDocumentID != reply.ID || v.CompletedAt == nil {
		t.Fatalf("after the lead's handler completed: %+v", v)
	}
	for _, a := range v.Assignments {
		if want := "done"; a.Role != handling.RoleInform && a.State != want {
			t.Errorf("assignment %s (%s) is %s", a.ID, a.Role, a.State)
		}
	}
	if _, err := w.svc.Complete(w.ctx, w.p("handlerTP"), doc.ID, handling.CompleteRequest{}); !isConflict(err) {
		t.Fatalf("completing twice: %v", err)
	}
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), doc.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UserID: w.id("drafter"), Role: handling.RoleInform}}}); !isConflict(err) {
		t.Fatalf("assigning a completed document: %v", err)
	}
	if _, err := w.svc.View(w.ctx, w.p("otherLeader"), doc.ID); !isNotFound(err) {
		t.Fatalf("another organisation reads the handling: %v", err)
	}
	if c := w.inbox("handlerTP", ""); c.Open != 0 || c.Handled != 1 {
		t.Fatalf("the handler's inbox after completing: %+v", c)
	}
	want := []events.Kind{events.DocumentAssigned, events.DocumentAssigned, events.DocumentCompleted, events.DocumentCompleted}
	if got := w.events.kinds(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("events %v, want %v", got, want)
	}
	// Every step is in the history and in the audit log.
	if len(v.History) != 6 {
		t.Fatalf("history: %+v", v.History)
	}
	var audited int
	if err := w.db.Pool.QueryRow(w.ctx, `SELECT count(*) FROM audit_log WHERE object = $1 AND action IN
		('document.present', 'document.assign', 'document.progress', 'document.complete')`, "document:"+doc.ID).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 6 {
		t.Fatalf("%d audit entries for 6 steps", audited)
	}
}

// TestConcurrentActions races people on one assignment: exactly one
// completion and one lead win, the others are told the state moved.
func TestConcurrentActions(t *testing.T) {
	w := newWorld(t)
	doc := w.incoming()
	const n = 8
	race := func(do func() error) (won, lost int) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = do() }()
		}
		wg.Wait()
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case isConflict(err):
				lost++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		return won, lost
	}
	won, lost := race(func() error {
		_, err := w.svc.Assign(w.ctx, w.p("leader"), doc.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
			{UserID: w.id("handlerTP"), Role: handling.RoleLead, Due: days(5)}}})
		return err
	})
	if won != 1 || lost != n-1 {
		t.Fatalf("assign: %d won, %d lost", won, lost)
	}
	won, lost = race(func() error {
		_, err := w.svc.Complete(w.ctx, w.p("handlerTP"), doc.ID, handling.CompleteRequest{Note: "xong"})
		return err
	})
	if won != 1 || lost != n-1 {
		t.Fatalf("complete: %d won, %d lost", won, lost)
	}
	v, err := w.svc.View(w.ctx, w.p("leader"), doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Assignments) != 1 || v.Status != handling.StatusCompleted || len(v.History) != 2 {
		t.Fatalf("after the races: %+v", v)
	}
}

// TestNotInHandling: a document nobody registered for handling is not
// assigned.
func TestNotInHandling(t *testing.T) {
	w := newWorld(t)
	d := w.document("drafter", "VP")
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), d.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UserID: w.id("drafter"), Role: handling.RoleLead}}}); !isConflict(err) {
		t.Fatalf("assigning a draft: %v", err)
	}
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), "00000000-0000-0000-0000-000000000000", handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UserID: w.id("drafter"), Role: handling.RoleLead}}}); !isNotFound(err) {
		t.Fatalf("assigning nothing: %v", err)
	}
	_ = time.Second
}
