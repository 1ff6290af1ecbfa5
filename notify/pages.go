package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
)

// What the pages need besides the API's calls: the bell's count on every
// page, marking everything read at once, and when a failed webhook
// delivery is tried again.

// Unread is the number of p's unread notifications: one count over the
// partial index of unread rows, cheap enough for every page's bell.
func (e *Engine) Unread(ctx context.Context, p accounts.Principal) (int, error) {
	if err := accounts.Authorize(p, accounts.NotificationRead, accounts.Target{UserID: p.ID}); err != nil {
		return 0, err
	}
	if p.ID == "" {
		return 0, nil
	}
	var n int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", p.ID).Scan(&n); err != nil {
		return 0, fmt.Errorf("unread notifications: %w", err)
	}
	return n, nil
}

// MarkAllRead marks every one of p's notifications read and says how many
// were unread. Like MarkRead it is the user's own view, not audited.
func (e *Engine) MarkAllRead(ctx context.Context, p accounts.Principal) (int, error) {
	if err := accounts.Authorize(p, accounts.NotificationRead, accounts.Target{UserID: p.ID}); err != nil {
		return 0, err
	}
	if p.ID == "" {
		return 0, nil
	}
	tag, err := e.db.Pool.Exec(ctx, "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL", p.ID)
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Retry is a delivery still to be tried: its event, the attempts made so
// far and when the next runs.
type Retry struct {
	EventID  string    `json:"event_id"`
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next"`
}

// WebhookRetries lists the deliveries to an endpoint waiting in the job
// queue (failed and to be retried, or not yet tried), by event.
func (e *Engine) WebhookRetries(ctx context.Context, p accounts.Principal, id string) (map[string]Retry, error) {
	orgID, _, err := e.webhookOrg(ctx, e.db.Pool, id)
	if err != nil {
		return nil, err
	}
	if err := accounts.Authorize(p, accounts.WebhookManage, accounts.Target{OrgID: orgID}); err != nil {
		return nil, err
	}
	rows, err := e.db.Pool.Query(ctx, `SELECT args->>'event_id', attempt, scheduled_at FROM river_job
		WHERE kind = $1 AND args->>'endpoint_id' = $2 AND state IN ('available', 'scheduled', 'retryable', 'running')
		ORDER BY scheduled_at LIMIT 500`, webhookArgs{}.Kind(), id)
	if err != nil {
		return nil, fmt.Errorf("webhook retries: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Retry, error) {
		var x Retry
		err := r.Scan(&x.EventID, &x.Attempts, &x.Next)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook retries: %w", err)
	}
	out := make(map[string]Retry, len(rs))
	for _, x := range rs {
		out[x.EventID] = x
	}
	return out, nil
}
