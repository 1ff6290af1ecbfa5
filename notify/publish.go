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

var _ events.Publisher = (*Engine)(nil)

// Publish records ev in the caller's transaction: the event itself, one
// in-app notification for each of ev.UserIDs, an e-mail job for each of
// them who chose e-mail, and a webhook job for each endpoint of
// ev.OrganizationID. Nothing of it exists unless tx commits.
func (e *Engine) Publish(ctx context.Context, tx pgx.Tx, ev events.Event) error {
	if ev.Kind == "" {
		return fmt.Errorf("publish: event without a kind")
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("publish %s: data: %w", ev.Kind, err)
	}
	if ev.Data == nil {
		data = []byte("{}")
	}
	var eventID string
	err = tx.QueryRow(ctx, `INSERT INTO notify_events (kind, organization_id, document_id, actor_id, summary, data)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		string(ev.Kind), nullUUID(ev.OrganizationID), nullUUID(ev.DocumentID), nullUUID(ev.ActorID), ev.Summary, data).Scan(&eventID)
	if err != nil {
		return fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	users := slices.Compact(slices.Sorted(slices.Values(ev.UserIDs)))
	users = slices.DeleteFunc(users, func(u string) bool { return u == "" })
	var jobs []river.InsertManyParams
	if len(users) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (user_id, event_id, kind, document_id, summary)
			SELECT u, $2, $3, $4, $5 FROM unnest($1::uuid[]) AS u`,
			users, eventID, string(ev.Kind), nullUUID(ev.DocumentID), ev.Summary); err != nil {
			return fmt.Errorf("publish %s: notifications: %w", ev.Kind, err)
		}
		rows, err := tx.Query(ctx, `SELECT user_id::text FROM notification_preferences
			WHERE user_id = ANY($1::uuid[]) AND email_on ORDER BY user_id`, users)
		if err != nil {
			return fmt.Errorf("publish %s: preferences: %w", ev.Kind, err)
		}
		mailTo, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("publish %s: preferences: %w", ev.Kind, err)
		}
		for _, u := range mailTo {
			jobs = append(jobs, river.InsertManyParams{Args: emailArgs{EventID: eventID, UserID: u}})
		}
	}
	if ev.OrganizationID != "" {
		rows, err := tx.Query(ctx, `SELECT id::text FROM webhook_endpoints
			WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY id`, ev.OrganizationID)
		if err != nil {
			return fmt.Errorf("publish %s: webhooks: %w", ev.Kind, err)
		}
		endpoints, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("publish %s: webhooks: %w", ev.Kind, err)
		}
		for _, id := range endpoints {
			jobs = append(jobs, river.InsertManyParams{Args: webhookArgs{EndpointID: id, EventID: eventID}})
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	if _, err := e.client.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("publish %s: jobs: %w", ev.Kind, err)
	}
	return nil
}

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
