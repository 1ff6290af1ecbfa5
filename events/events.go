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
