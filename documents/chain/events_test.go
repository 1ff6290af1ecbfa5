package chain_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/events"
)

// heard records the events published to it.
type heard struct {
	mu  sync.Mutex
	evs []events.Event
}

func (h *heard) Publish(_ context.Context, _ pgx.Tx, ev events.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.evs = append(h.evs, ev)
	return nil
}

func (h *heard) take() []events.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := h.evs
	h.evs = nil
	return evs
}

// TestChainAnnouncesEvents: submitting tells the first stage's people,
// approving tells the drafter and whoever now has a turn, a return tells
// the drafter, a signature tells the drafter; the actor is never told of
// their own action, and a comment announces nothing.
func TestChainAnnouncesEvents(t *testing.T) {
	w := newWorld(t)
	h := &heard{}
	w.svc.Events = h
	d := w.draft()
	w.submit(d.ID, w.standard())
	expect := func(step string, kind events.Kind, told ...string) {
		t.Helper()
		evs := h.take()
		if len(evs) != 1 || evs[0].Kind != kind || evs[0].DocumentID != d.ID || evs[0].OrganizationID != d.OrganizationID {
			t.Fatalf("%s: events %+v, want one %s", step, evs, kind)
		}
		for _, who := range told {
			if !slices.Contains(evs[0].UserIDs, w.id(who)) {
				t.Errorf("%s: %s not told (%v)", step, who, evs[0].UserIDs)
			}
		}
		if slices.Contains(evs[0].UserIDs, evs[0].ActorID) {
			t.Errorf("%s: the actor is told of their own action", step)
		}
	}
	expect("submit", events.DocumentSubmitted, "reviewer")
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionComment, Comment: "Đã xem"})
	if evs := h.take(); len(evs) != 0 {
		t.Fatalf("a comment announced %+v", evs)
	}
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	expect("approve", events.DocumentApproved, "drafter", "consultee")
	w.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionReturn, Comment: "Sai thể thức"})
	expect("return", events.DocumentReturned, "drafter")
}
