package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

type reminderBatchWorker struct {
	river.WorkerDefaults[reminderBatchArgs]
	e *Engine
}

// Work reminds a batch of items in one transaction, set-based: one
// statement each inserts what reminders_sent did not hold yet (its key,
// item, day and person, keeps each reminder to once a day, whatever scans,
// batches, retries or restarts repeat it), the events, and the in-app
// notifications; the e-mail and webhook jobs of those events are queued in
// the same transaction with InsertManyTx. What Publish does for one event,
// this does for the batch.
func (w *reminderBatchWorker) Work(ctx context.Context, job *river.Job[reminderBatchArgs]) error {
	return w.e.db.InTx(ctx, func(tx pgx.Tx) error {
		return w.e.remindBatch(ctx, tx, job.Args)
	})
}

// batchEvent is one item's reminder event and who it tells.
type batchEvent struct {
	id    string
	item  reminderArgs
	users []string
}

func (e *Engine) remindBatch(ctx context.Context, tx pgx.Tx, args reminderBatchArgs) error {
	b := struct {
		Day   string
		Items []reminderArgs
	}{Day: args.Day}
	if err := json.Unmarshal([]byte(args.Items), &b.Items); err != nil {
		return fmt.Errorf("reminder batch %s: items: %w", args.Day, err)
	}
	var keys, kinds, users []string
	byKey := make(map[string]int, len(b.Items))
	for i, it := range b.Items {
		byKey[it.Key] = i
		for _, u := range it.UserIDs {
			keys, kinds, users = append(keys, it.Key), append(kinds, it.Reminder), append(users, u)
		}
	}
	rows, err := tx.Query(ctx, `INSERT INTO reminders_sent (item_key, day, kind, user_id)
		SELECT k, $1::date, kd, u FROM unnest($2::text[], $3::text[], $4::uuid[]) AS t(k, kd, u)
		ON CONFLICT DO NOTHING RETURNING item_key, user_id::text`, b.Day, keys, kinds, users)
	if err != nil {
		return fmt.Errorf("reminder batch %s: sent: %w", b.Day, err)
	}
	told := map[string][]string{}
	var order []string
	for rows.Next() {
		var k, u string
		if err := rows.Scan(&k, &u); err != nil {
			rows.Close()
			return fmt.Errorf("reminder batch %s: sent: %w", b.Day, err)
		}
		if _, ok := told[k]; !ok {
			order = append(order, k)
		}
		told[k] = append(told[k], u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reminder batch %s: sent: %w", b.Day, err)
	}
	if len(order) == 0 {
		return nil
	}
	var ids []string
	if err := tx.QueryRow(ctx, "SELECT array_agg(gen_random_uuid()::text) FROM generate_series(1, $1)", len(order)).Scan(&ids); err != nil {
		return fmt.Errorf("reminder batch %s: event ids: %w", b.Day, err)
	}
	evs := make([]batchEvent, len(order))
	var (
		eIDs, eKinds, eSummaries, eData []string
		eOrgs, eDocs, nDocs             []*string
		nUsers, nEvents, nKinds, nSums  []string
		orgs                            []string
	)
	for i, k := range order {
		it := b.Items[byKey[k]]
		evs[i] = batchEvent{id: ids[i], item: it, users: told[k]}
		// Webhooks hear of an overdue item once, on its first overdue day.
		org := ""
		if it.Reminder == string(ReminderOverdue) && it.OverdueDays == 1 {
			org = it.OrganizationID
			orgs = append(orgs, org)
		}
		data, err := json.Marshal(map[string]any{"item": it.Key, "day": it.Day, "overdue_days": it.OverdueDays})
		if err != nil {
			return fmt.Errorf("reminder batch %s: data: %w", b.Day, err)
		}
		summary := reminderSummary(it)
		eIDs, eKinds, eOrgs, eDocs = append(eIDs, ids[i]), append(eKinds, it.Reminder), append(eOrgs, nullString(org)), append(eDocs, nullString(it.DocumentID))
		eSummaries, eData = append(eSummaries, summary), append(eData, string(data))
		for _, u := range told[k] {
			nUsers, nEvents, nKinds, nDocs, nSums = append(nUsers, u), append(nEvents, ids[i]), append(nKinds, it.Reminder), append(nDocs, nullString(it.DocumentID)), append(nSums, summary)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO notify_events (id, kind, organization_id, document_id, summary, data)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::jsonb[])`,
		eIDs, eKinds, eOrgs, eDocs, eSummaries, eData); err != nil {
		return fmt.Errorf("reminder batch %s: events: %w", b.Day, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO notifications (user_id, event_id, kind, document_id, summary)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[])`,
		nUsers, nEvents, nKinds, nDocs, nSums); err != nil {
		return fmt.Errorf("reminder batch %s: notifications: %w", b.Day, err)
	}
	jobs, err := e.batchFanOut(ctx, tx, evs, orgs)
	if err != nil {
		return fmt.Errorf("reminder batch %s: %w", b.Day, err)
	}
	for start := 0; start < len(jobs); start += 1000 {
		if _, err := e.client.InsertManyTx(ctx, tx, jobs[start:min(start+1000, len(jobs))]); err != nil {
			return fmt.Errorf("reminder batch %s: jobs: %w", b.Day, err)
		}
	}
	return nil
}

// batchFanOut is the e-mail jobs (one per person told who chose e-mail,
// per event) and webhook jobs (one per endpoint of the organisation of an
// event that goes to webhooks) of a batch's events: two queries in all.
func (e *Engine) batchFanOut(ctx context.Context, tx pgx.Tx, evs []batchEvent, orgs []string) ([]river.InsertManyParams, error) {
	var everyone []string
	for _, ev := range evs {
		everyone = append(everyone, ev.users...)
	}
	rows, err := tx.Query(ctx, `SELECT user_id::text FROM notification_preferences WHERE user_id = ANY($1::uuid[]) AND email_on`, everyone)
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	mailers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	mail := make(map[string]bool, len(mailers))
	for _, u := range mailers {
		mail[u] = true
	}
	endpoints := map[string][]string{}
	if len(orgs) > 0 {
		rows, err := tx.Query(ctx, `SELECT organization_id::text, id::text FROM webhook_endpoints
			WHERE organization_id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id`, orgs)
		if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		for rows.Next() {
			var org, id string
			if err := rows.Scan(&org, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("webhooks: %w", err)
			}
			endpoints[org] = append(endpoints[org], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
	}
	var jobs []river.InsertManyParams
	for _, ev := range evs {
		for _, u := range ev.users {
			if mail[u] {
				jobs = append(jobs, river.InsertManyParams{Args: emailArgs{EventID: ev.id, UserID: u}})
			}
		}
		if ev.item.Reminder == string(ReminderOverdue) && ev.item.OverdueDays == 1 {
			for _, id := range endpoints[ev.item.OrganizationID] {
				jobs = append(jobs, river.InsertManyParams{Args: webhookArgs{EndpointID: id, EventID: ev.id}})
			}
		}
	}
	return jobs, nil
}

// nullString is nil for "", so an absent reference stores NULL in an
// array parameter.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
