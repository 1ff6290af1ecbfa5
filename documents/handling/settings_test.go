package handling_test

import (
	"testing"

	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// The văn thư sends a document straight to its lead unit only where the
// organisation's rules allow it: refused (403) while the setting is off,
// which only an administrator changes, with an audit entry; once on, the
// unit's head receives it as from a leader's assignment, with the same
// event, and a second sending or one after assignment is a conflict.
func TestSendStraightToUnit(t *testing.T) {
	w := newWorld(t)
	w.person("admin", w.org, w.units["VP"], storage.RoleAdmin)
	tp := w.units["TP"].ID
	doc := w.incoming()

	rules, err := w.svc.Settings(w.ctx, w.p("clerk"), w.org.ID)
	if err != nil || rules.ClerkSendsToUnit {
		t.Fatalf("default rules %+v %v", rules, err)
	}
	if _, err := w.svc.Settings(w.ctx, w.p("otherLeader"), w.org.ID); !isNotFound(err) {
		t.Fatalf("another organisation reads the rules: %v", err)
	}
	send := handling.SendRequest{UnitID: tp, Due: days(5)}
	if _, err := w.svc.SendToUnit(w.ctx, w.p("clerk"), doc.ID, send); !isForbidden(err) || err.Error() != handling.ErrDirectSendingOff.Error() {
		t.Fatalf("sent straight to a unit while the rules forbid it: %v", err)
	}
	if _, err := w.svc.Present(w.ctx, w.p("clerk"), doc.ID, handling.PresentRequest{UnitID: tp}); !isForbidden(err) {
		t.Fatalf("presented to a unit while the rules forbid it: %v", err)
	}
	if c := w.inbox("headTP", ""); c.Open != 0 {
		t.Fatalf("a refused sending reached the unit: %+v", c)
	}

	on, off := true, false
	for _, c := range []struct {
		who  string
		req  handling.SettingsRequest
		want func(error) bool
	}{
		{"clerk", handling.SettingsRequest{ClerkSendsToUnit: &on}, isForbidden},
		{"leader", handling.SettingsRequest{ClerkSendsToUnit: &on}, isForbidden},
		{"otherLeader", handling.SettingsRequest{ClerkSendsToUnit: &on}, isNotFound},
		{"admin", handling.SettingsRequest{}, isInvalid},
	} {
		if _, err := w.svc.SetSettings(w.ctx, w.p(c.who), w.org.ID, c.req); !c.want(err) {
			t.Fatalf("%s sets the rules %+v: %v", c.who, c.req, err)
		}
	}
	rules, err = w.svc.SetSettings(w.ctx, w.p("admin"), w.org.ID, handling.SettingsRequest{ClerkSendsToUnit: &on})
	if err != nil || !rules.ClerkSendsToUnit || rules.UpdatedBy != w.id("admin") {
		t.Fatalf("rules %+v %v", rules, err)
	}
	var n int
	if err := w.db.Pool.QueryRow(w.ctx, `SELECT count(*) FROM audit_log WHERE action = 'organization.handling_settings' AND object = $1
		AND details->'clerk_sends_to_unit'->>'to' = 'true' AND details->'clerk_sends_to_unit'->>'from' = 'false'`, "organization:"+w.org.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d audit entries of the change %v", n, err)
	}

	// Refusals the rules do not lift.
	if _, err := w.svc.SendToUnit(w.ctx, w.p("drafter"), doc.ID, send); !isForbidden(err) {
		t.Fatalf("a drafter sends to a unit: %v", err)
	}
	if _, err := w.svc.SendToUnit(w.ctx, w.p("clerk"), doc.ID, handling.SendRequest{UnitID: w.units["VP"].ID}); !isInvalid(err) {
		t.Fatalf("sent to a unit with no head: %v", err)
	}
	if _, err := w.svc.Present(w.ctx, w.p("clerk"), doc.ID, handling.PresentRequest{UnitID: tp, UserID: w.id("leader")}); !isInvalid(err) {
		t.Fatalf("presented to a leader and a unit at once: %v", err)
	}

	before := len(w.events.kinds())
	v, err := w.svc.Present(w.ctx, w.p("clerk"), doc.ID, handling.PresentRequest{UnitID: tp, Due: days(5)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != handling.StatusAssigned || len(v.Assignments) != 1 || v.Assignments[0].UnitID != tp || v.Assignments[0].Role != handling.RoleLead ||
		v.Assignments[0].DueAt == nil || v.Due == nil || !v.Due.Equal(*v.Assignments[0].DueAt) || v.AssignedBy != w.id("clerk") {
		t.Fatalf("sent %+v", v)
	}
	kinds := w.events.kinds()[before:]
	if len(kinds) != 1 || kinds[0] != events.DocumentAssigned {
		t.Fatalf("events %v", kinds)
	}
	w.events.mu.Lock()
	ev := w.events.evs[len(w.events.evs)-1]
	w.events.mu.Unlock()
	if ev.ActorID != w.id("clerk") || len(ev.UserIDs) != 1 || ev.UserIDs[0] != w.id("headTP") || ev.Data["sent_by_clerk"] != true {
		t.Fatalf("assigned event %+v", ev)
	}
	if c := w.inbox("headTP", ""); c.Open != 1 {
		t.Fatalf("the unit head's inbox: %+v", c)
	}
	if err := w.db.Pool.QueryRow(w.ctx, `SELECT count(*) FROM audit_log WHERE action = 'document.assign' AND object = $1
		AND (details->>'sent_by_clerk')::boolean`, "document:"+doc.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d audit entries of the sending %v", n, err)
	}
	// The unit head goes on as under a leader's assignment.
	if _, err := w.svc.Assign(w.ctx, w.p("headTP"), doc.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{{UserID: w.id("handlerTP")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SendToUnit(w.ctx, w.p("clerk"), doc.ID, send); !isConflict(err) {
		t.Fatalf("sent again after assignment: %v", err)
	}

	// Turned off again, a new document waits for a leader.
	if _, err := w.svc.SetSettings(w.ctx, w.p("admin"), w.org.ID, handling.SettingsRequest{ClerkSendsToUnit: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SendToUnit(w.ctx, w.p("clerk"), w.incoming().ID, send); !isForbidden(err) {
		t.Fatalf("sent after the rules were turned off: %v", err)
	}
}
