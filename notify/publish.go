package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/vanthu/vanthu/events"
)

var _ events.Queuer = (*Engine)(nil)

// Publish records ev in the caller's transaction and tells its people at
// once: the event itself, one in-app notification for each of ev.UserIDs,
// an e-mail job for each of them who chose e-mail, and a webhook job for
// each endpoint of ev.OrganizationID. Nothing of it exists unless tx
// commits. One round trip (the event and its fan-out, the statement the
// engine's fan-out uses, for this event alone), and one more for the jobs
// when there are any.
func (e *Engine) Publish(ctx context.Context, tx pgx.Tx, ev events.Event) error {
	id := uuid.NewString()
	var b pgx.Batch
	if err := queueEvent(&b, id, ev); err != nil {
		return err
	}
	var due []dueEvent
	queueFanOut(&b, []string{id}, 1, &due)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	if err := e.insertJobs(ctx, tx, due); err != nil {
		return fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	return nil
}

// Queue queues into the caller's batch b only the event, with the people
// it tells pending: one insert, no read, no job, so that a busy
// transaction (an approval) pays for its event and nothing else. The event
// commits with its cause (never lost, never twice); the engine's fan-out
// (FanOut, run by a started engine at once and whenever events are queued)
// then makes its notifications and its e-mail and webhook jobs, in
// batches, exactly once. The returned Sent refuses if b was not sent, and
// wakes this process's fan-out.
func (e *Engine) Queue(b *pgx.Batch, ev events.Event) (events.Sent, error) {
	var queued bool
	if err := queueEvent(b, uuid.NewString(), ev, func() { queued = true }); err != nil {
		return nil, err
	}
	return func(context.Context, pgx.Tx) error {
		if !queued {
			return fmt.Errorf("publish %s: the event's batch was not sent", ev.Kind)
		}
		e.wakeFanOut()
		return nil
	}, nil
}

// queueEvent queues the insert of ev as event id, its people pending; done
// (if given) runs once the insert succeeded.
func queueEvent(b *pgx.Batch, id string, ev events.Event, done ...func()) error {
	if ev.Kind == "" {
		return fmt.Errorf("publish: event without a kind")
	}
	data := []byte("{}")
	if ev.Data != nil {
		var err error
		if data, err = json.Marshal(ev.Data); err != nil {
			return fmt.Errorf("publish %s: data: %w", ev.Kind, err)
		}
	}
	users := slices.Compact(slices.Sorted(slices.Values(ev.UserIDs)))
	users = slices.DeleteFunc(users, func(u string) bool { return u == "" })
	if users == nil {
		users = []string{}
	}
	b.Queue(`INSERT INTO notify_events (id, kind, organization_id, document_id, actor_id, summary, data, pending)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, string(ev.Kind), nullUUID(ev.OrganizationID), nullUUID(ev.DocumentID), nullUUID(ev.ActorID), ev.Summary, data, users).
		Exec(func(pgconn.CommandTag) error {
			for _, f := range done {
				f()
			}
			return nil
		})
	return nil
}

// dueEvent is an event the fan-out told: who of its people chose e-mail,
// and which endpoints of its organisation hear it.
type dueEvent struct {
	id, kind    string
	mailTo      []string
	endpointIDs []string
}

// queueFanOut queues fanOutSQL over ids (nil: any pending event, oldest
// first) for at most limit events; what it told is appended to due.
func queueFanOut(b *pgx.Batch, ids []string, limit int, due *[]dueEvent) {
	b.Queue(fanOutSQL, ids, limit).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var d dueEvent
			if err := rows.Scan(&d.id, &d.kind, &d.mailTo, &d.endpointIDs); err != nil {
				return fmt.Errorf("fan-out: %w", err)
			}
			*due = append(*due, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("fan-out: %w", err)
		}
		return nil
	})
}

// fanOutSQL tells the people of pending events ($1: these ids; NULL: any,
// oldest first; at most $2), set-based, in one statement: it takes each
// event (skipping those another fan-out holds), makes one notification per
// person still known (at the event's time, so the list keeps the order of
// the events), clears pending, and returns each event with those of its
// people who chose e-mail and its organisation's webhook endpoints. A
// notification's id is derived from its event and person (the first 128
// bits of an MD5 of both, as a UUID: not a secret, every read checks the
// owner), so the primary key makes a repeated fan-out tell nobody twice
// without another index to maintain.
const fanOutSQL = `
	WITH due AS (
		SELECT id, kind, organization_id, document_id, summary, created_at, pending
		FROM notify_events
		WHERE pending IS NOT NULL AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))
		ORDER BY created_at
		LIMIT $2
		FOR UPDATE SKIP LOCKED
	), told AS (
		INSERT INTO notifications (id, user_id, event_id, kind, document_id, summary, created_at)
		SELECT md5(due.id::text || '/' || u.id::text)::uuid, u.id, due.id, due.kind, due.document_id, due.summary, due.created_at
		FROM due CROSS JOIN LATERAL unnest(due.pending) AS p(user_id) JOIN users u ON u.id = p.user_id
		ON CONFLICT (id) DO NOTHING
	), cleared AS (
		UPDATE notify_events ev SET pending = NULL FROM due WHERE ev.id = due.id
	)
	SELECT due.id::text, due.kind,
		ARRAY(SELECT user_id::text FROM notification_preferences WHERE user_id = ANY(due.pending) AND email_on ORDER BY user_id),
		ARRAY(SELECT id::text FROM webhook_endpoints WHERE organization_id = due.organization_id AND deleted_at IS NULL ORDER BY id)
	FROM due ORDER BY due.created_at, due.id`

// insertJobs queues, through River in tx, the e-mail and webhook jobs of
// the events told (each unique by its arguments: queued once).
func (e *Engine) insertJobs(ctx context.Context, tx pgx.Tx, due []dueEvent) error {
	var jobs []river.InsertManyParams
	for _, d := range due {
		for _, u := range d.mailTo {
			jobs = append(jobs, river.InsertManyParams{Args: emailArgs{EventID: d.id, UserID: u}})
		}
		for _, id := range d.endpointIDs {
			jobs = append(jobs, river.InsertManyParams{Args: webhookArgs{EndpointID: id, EventID: d.id}})
		}
	}
	for start := 0; start < len(jobs); start += 1000 {
		if _, err := e.client.InsertManyTx(ctx, tx, jobs[start:min(start+1000, len(jobs))]); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
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
