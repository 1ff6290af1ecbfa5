// Package events names what happens to documents that someone outside the
// acting transaction must hear about (in-app notifications, e-mail,
// webhooks, reminders), and the one way to announce it: Publish inside the
// transaction that causes it, so an event exists exactly when its cause
// committed. What a published event turns into is the Publisher's business.
package events

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Kind is an event's name as webhooks carry it.
type Kind string

// The events of the office workflow.
const (
	DocumentSubmitted  Kind = "document.submitted"
	DocumentReturned   Kind = "document.returned"
	DocumentApproved   Kind = "document.approved"
	DocumentSigned     Kind = "document.signed"
	DocumentIssued     Kind = "document.issued"
	DocumentReceived   Kind = "document.received"
	DocumentRegistered Kind = "document.registered"
	DocumentAssigned   Kind = "document.assigned"
	DocumentCompleted  Kind = "document.completed"
	DocumentOverdue    Kind = "document.overdue"
	DocumentRecalled   Kind = "document.recalled"
)

// Event is one thing that happened to a document.
type Event struct {
	Kind           Kind
	OrganizationID string // whose webhooks hear it
	DocumentID     string
	ActorID        string   // who caused it; empty for the system
	UserIDs        []string // who is told in the application and by e-mail
	// Summary is a short human sentence (Vietnamese) for notifications.
	Summary string
	// Data is extra JSON-encodable detail for webhooks.
	Data map[string]any
}

// Publisher records events in the caller's transaction.
type Publisher interface {
	Publish(ctx context.Context, tx pgx.Tx, ev Event) error
}

// Queuer is a Publisher that can put an event's statements into the
// caller's batch of writes (pgx.Batch), so that announcing it costs no
// round trip of its own: the statements reach PostgreSQL with the
// caller's other writes, in the caller's transaction. The event exists
// exactly when the caller's transaction committed; what it turns into
// (notifications, e-mail, webhooks) may follow shortly after the commit.
type Queuer interface {
	Publisher
	// Queue queues ev's statements into b. What needs their results is
	// returned as Sent, for the caller to run once b was sent, in the same
	// transaction and before it commits (nil: nothing is left).
	Queue(b *pgx.Batch, ev Event) (Sent, error)
}

// Sent is what is left of an event once its batch was sent.
type Sent func(ctx context.Context, tx pgx.Tx) error

// Discard is the Publisher of a service that tells nobody.
type Discard struct{}

// Publish does nothing.
func (Discard) Publish(context.Context, pgx.Tx, Event) error { return nil }

// Publish announces ev through p, or through nobody when p is nil.
func Publish(ctx context.Context, p Publisher, tx pgx.Tx, ev Event) error {
	if p == nil {
		return nil
	}
	return p.Publish(ctx, tx, ev)
}

// Queue announces ev through p within the caller's batch b: a Queuer
// queues its statements into b; any other Publisher publishes once b was
// sent (the returned Sent, which the caller runs before committing). A nil
// p announces nothing and returns nil.
func Queue(p Publisher, b *pgx.Batch, ev Event) (Sent, error) {
	if p == nil {
		return nil, nil
	}
	if q, ok := p.(Queuer); ok {
		return q.Queue(b, ev)
	}
	return func(ctx context.Context, tx pgx.Tx) error { return p.Publish(ctx, tx, ev) }, nil
}
