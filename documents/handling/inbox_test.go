package handling_test

import (
	"testing"

	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/storage"
)

// TestOneInbox: a person's chain turns and handling parts share one inbox
// with one set of counters, pages by keyset without loss or repeat, and
// what is only for information waits in its own view.
func TestOneInbox(t *testing.T) {
	w := newWorld(t)
	chains := &chain.Service{DB: w.db, Docs: w.docs, Now: w.now}
	draft := w.document("drafter", "VP")
	if _, err := storage.InsertInboxItem(w.ctx, w.db.Pool, storage.InboxItem{OrganizationID: w.org.ID, UserID: w.id("handlerTP"),
		DocumentID: draft.ID, Source: "chain", Round: 1, Label: "Xin ý kiến", Task: "comment", Since: w.now()}); err != nil {
		t.Fatal(err)
	}
	assign := func(role string, due *handling.Due) string {
		d := w.incoming()
		if _, err := w.svc.Assign(w.ctx, w.p("leader"), d.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
			{UserID: w.id("handlerTP"), Role: role, Due: due}, {UnitID: w.units["KT"].ID, Role: handling.RoleInform}}}); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	overdue := assign(handling.RoleLead, days(1)) // Monday 15 February 17:00
	soon := assign(handling.RoleLead, days(3))    // Wednesday 17 February 17:00
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), soon, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UserID: w.id("staffKT"), Role: handling.RoleCoordinate}}}); err != nil {
		t.Fatal(err)
	}
	d := w.incoming()
	if _, err := w.svc.Assign(w.ctx, w.p("leader"), d.ID, handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UserID: w.id("staffKT"), Role: handling.RoleLead}, {UserID: w.id("handlerTP"), Role: handling.RoleInform}}}); err != nil {
		t.Fatal(err)
	}

	w.set(vn("2027-02-17 10:00"))
	page := func(req chain.InboxRequest) chain.InboxPage {
		t.Helper()
		p, err := chains.Inbox(w.ctx, w.p("handlerTP"), req)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := page(chain.InboxRequest{})
	if c := first.Counts; c.Open != 3 || c.Overdue != 1 || c.DueSoon != 1 || c.Handled != 0 || c.ForInformation != 1 {
		t.Fatalf("counts %+v", c)
	}
	seen := map[string]bool{}
	req := chain.InboxRequest{Limit: 1}
	for {
		p := page(req)
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Fatalf("item %s twice", it.ID)
			}
			seen[it.ID] = true
		}
		if p.NextCursor == "" {
			break
		}
		req.Cursor = p.NextCursor
	}
	if len(seen) != 3 {
		t.Fatalf("paged %d items of 3", len(seen))
	}
	views := map[string][]string{
		chain.ViewOverdue:        {overdue},
		chain.ViewDueSoon:        {soon},
		chain.ViewForInformation: {d.ID},
	}
	for view, want := range views {
		p := page(chain.InboxRequest{View: view})
		if len(p.Items) != len(want) || p.Items[0].Document.ID != want[0] || p.Items[0].Source != "handling" || p.Items[0].AssignmentID == "" {
			t.Errorf("view %s: %+v", view, p.Items)
		}
	}
	if p := page(chain.InboxRequest{Source: "chain"}); len(p.Items) != 1 || p.Items[0].Document.ID != draft.ID {
		t.Errorf("the chain's items: %+v", p.Items)
	}
	if p := page(chain.InboxRequest{Source: "handling"}); len(p.Items) != 2 {
		t.Errorf("the handling's items: %+v", p.Items)
	}
	if _, err := chains.Inbox(w.ctx, w.p("handlerTP"), chain.InboxRequest{Source: "mail"}); err == nil {
		t.Error("an unknown source is accepted")
	}
	if _, err := w.svc.Complete(w.ctx, w.p("handlerTP"), overdue, handling.CompleteRequest{Note: "xong, muộn"}); err != nil {
		t.Fatal(err)
	}
	done := page(chain.InboxRequest{View: chain.ViewHandled})
	if c := done.Counts; c.Open != 2 || c.Overdue != 0 || c.Handled != 1 || len(done.Items) != 1 || done.Items[0].Document.ID != overdue {
		t.Fatalf("after completing: %+v", done)
	}
}
