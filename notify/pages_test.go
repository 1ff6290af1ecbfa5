package notify_test

import (
	"errors"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// TestUnreadMarkAllAndRetries: the bell's count is one's own unread;
// marking all read touches only one's own; an endpoint's waiting
// deliveries are listed by event for its organisation's administrator,
// and to no one else.
func TestUnreadMarkAllAndRetries(t *testing.T) {
	w := newWorld(t)
	e := w.engine(notify.Config{}, false)
	doc := w.document("Công văn về phòng chống bão")
	wh, err := e.CreateWebhook(w.ctx, w.people["root"], w.org.ID, notify.NewWebhook{URL: "http://127.0.0.1:9/hook", AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []events.Kind{events.DocumentAssigned, events.DocumentOverdue} {
		w.publish(e, events.Event{Kind: kind, OrganizationID: w.org.ID, DocumentID: doc, UserIDs: []string{w.id("head"), w.id("clerk")}})
	}
	for _, c := range []struct {
		who  string
		want int
	}{{"head", 2}, {"clerk", 2}, {"drafter", 0}} {
		if n, err := e.Unread(w.ctx, w.people[c.who]); err != nil || n != c.want {
			t.Errorf("%s unread %d (%v), want %d", c.who, n, err, c.want)
		}
	}
	if n, err := e.MarkAllRead(w.ctx, w.people["head"]); err != nil || n != 2 {
		t.Fatalf("mark all read: %d %v", n, err)
	}
	if n, _ := e.Unread(w.ctx, w.people["head"]); n != 0 {
		t.Errorf("head unread %d after marking all", n)
	}
	if n, _ := e.Unread(w.ctx, w.people["clerk"]); n != 2 {
		t.Errorf("the clerk's unread changed: %d", n)
	}
	if n, err := e.MarkAllRead(w.ctx, w.people["head"]); err != nil || n != 0 {
		t.Errorf("marking again: %d %v", n, err)
	}
	rs, err := e.WebhookRetries(w.ctx, w.people["admin"], wh.ID)
	if err != nil || len(rs) != 2 {
		t.Fatalf("waiting deliveries: %v %v, want both events", rs, err)
	}
	for id, r := range rs {
		if r.EventID != id || r.Next.IsZero() {
			t.Errorf("retry %s: %+v", id, r)
		}
	}
	if _, err := e.WebhookRetries(w.ctx, w.people["drafter"], wh.ID); !errors.Is(err, accounts.ErrForbidden) {
		t.Errorf("a drafter's look at the retries: %v", err)
	}
	if _, err := e.WebhookRetries(w.ctx, w.people["admin"], "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an unknown endpoint: %v", err)
	}
}
