package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/vanthu/vanthu/events"
)

var _ events.Queuer = (*Engine)(nil)

// Publish records ev in the caller's transaction: the event itself, one
// in-app notification for each of ev.UserIDs, an e-mail job for each of
// them who chose e-mail, and a webhook job for each endpoint of
// ev.OrganizationID. Nothing of it exists unless tx commits. It is Queue
// sent alone: one round trip, and one more for the jobs when there are any.
func (e *Engine) Publish(ctx context.Context, tx pgx.Tx, ev events.Event) error {
	var b pgx.Batch
	sent, err := e.Queue(&b, ev)
	if err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	return sent(ctx, tx)
}

// Queue queues what Publish records into the caller's batch b, as one
// statement: the event, its notifications, and the reads of who of its
// people chose e-mail and which endpoints the organisation has. The
// returned Sent queues the e-mail and webhook jobs those reads call for,
// through River (InsertManyTx: River owns the jobs' unique keys and wakes
// its workers), once b was sent; with nobody to mail and no endpoint it
// does nothing and costs nothing.
func (e *Engine) Queue(b *pgx.Batch, ev events.Event) (events.Sent, error) {
	if ev.Kind == "" {
		return nil, fmt.Errorf("publish: event without a kind")
	}
	data := []byte("{}")
	if ev.Data != nil {
		var err error
		if data, err = json.Marshal(ev.Data); err != nil {
			return nil, fmt.Errorf("publish %s: data: %w", ev.Kind, err)
		}
	}
	users := slices.Compact(slices.Sorted(slices.Values(ev.UserIDs)))
	users = slices.DeleteFunc(users, func(u string) bool { return u == "" })
	if users == nil {
		users = []string{}
	}
	var (
		queued              bool
		eventID             string
		mailTo, endpointIDs []string
	)
	b.Queue(publishSQL, string(ev.Kind), nullUUID(ev.OrganizationID), nullUUID(ev.DocumentID), nullUUID(ev.ActorID), ev.Summary, data, users).
		QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&eventID, &mailTo, &endpointIDs); err != nil {
				return fmt.Errorf("publish %s: %w", ev.Kind, err)
			}
			queued = true
			return nil
		})
	return func(ctx context.Context, tx pgx.Tx) error {
		if !queued {
			return fmt.Errorf("publish %s: the event's batch was not sent", ev.Kind)
		}
		jobs := make([]river.InsertManyParams, 0, len(mailTo)+len(endpointIDs))
		for _, u := range mailTo {
			jobs = append(jobs, river.InsertManyParams{Args: emailArgs{EventID: eventID, UserID: u}})
		}
		for _, id := range endpointIDs {
			jobs = append(jobs, river.InsertManyParams{Args: webhookArgs{EndpointID: id, EventID: eventID}})
		}
		if len(jobs) == 0 {
			return nil
		}
		if _, err := e.client.InsertManyTx(ctx, tx, jobs); err != nil {
			return fmt.Errorf("publish %s: jobs: %w", ev.Kind, err)
		}
		return nil
	}, nil
}

// publishSQL records an event ($1 kind, $2 organisation, $3 document, $4
// actor, $5 summary, $6 data) and a notification for each of $7, and
// returns the event's id with those of $7 who chose e-mail and the
// organisation's webhook endpoints.
const publishSQL = `
	WITH ev AS (
		INSERT INTO notify_events (kind, organization_id, document_id, actor_id, summary, data)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
	), told AS (
		INSERT INTO notifications (user_id, event_id, kind, document_id, summary)
		SELECT u, ev.id, $1, $3, $5 FROM ev, unnest($7::uuid[]) AS u
	)
	SELECT ev.id::text,
		ARRAY(SELECT user_id::text FROM notification_preferences WHERE user_id = ANY($7::uuid[]) AND email_on ORDER BY user_id),
		ARRAY(SELECT id::text FROM webhook_endpoints WHERE organization_id = $2 AND deleted_at IS NULL ORDER BY id)
	FROM ev`

// EnqueueDeliveryEmail queues, in the issuing transaction, the e-mail that
// sends an issued document's sealed PDF to the outside address of one
// document_deliveries row (channel email). The job marks the delivery
// mailed once the SMTP server accepted it; queuing the same delivery again
// does nothing.
func (e *Engine) EnqueueDeliveryEmail(ctx context.Context, tx pgx.Tx, deliveryID string) error {
	var channel string
	err := tx.QueryRow(ctx, "SELECT channel FROM document_deliveries WHERE id = $1", nullUUID(deliveryID)).Scan(&channel)
	if err != nil {
		return fmt.Errorf("enqueue delivery e-mail %s: %w", deliveryID, err)
	}
	if channel != "email" {
		return fmt.Errorf("enqueue delivery e-mail %s: the delivery goes by %s, not e-mail", deliveryID, channel)
	}
	if _, err := e.client.InsertTx(ctx, tx, deliveryEmailArgs{DeliveryID: deliveryID}, nil); err != nil {
		return fmt.Errorf("enqueue delivery e-mail %s: %w", deliveryID, err)
	}
	return nil
}

// nullUUID is nil for "", so an absent reference stores NULL.
func nullUUID(s string) any {
	if s == "" {
		return nil
	}
	return s
}
