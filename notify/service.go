package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// Notification is one in-app notification.
type Notification struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	DocumentID string     `json:"document_id,omitempty"`
	Summary    string     `json:"summary"`
	ReadAt     *time.Time `json:"read_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Page is a page of one's notifications, newest first; Next, when set, is
// the `before` of the next page.
type Page struct {
	Items  []Notification `json:"items"`
	Unread int            `json:"unread"`
	Next   string         `json:"next,omitempty"`
}

func invalid(format string, a ...any) error {
	return &accounts.InputError{Msg: fmt.Sprintf(format, a...)}
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// Notifications lists p's own notifications, newest first, limit at a time
// (1..100, default 50), after the one named before (empty: from the
// newest), with the number unread.
func (e *Engine) Notifications(ctx context.Context, p accounts.Principal, before string, limit int) (Page, error) {
	if err := accounts.Authorize(p, accounts.NotificationRead, accounts.Target{UserID: p.ID}); err != nil {
		return Page{}, err
	}
	if limit <= 0 {
		limit = 50
	}
	if limit > 100 {
		return Page{}, invalid("limit is at most 100")
	}
	if before != "" && !validUUID(before) {
		return Page{}, invalid("before must be the id of a notification")
	}
	page := Page{Items: []Notification{}}
	if p.ID == "" {
		return page, nil
	}
	rows, err := e.db.Pool.Query(ctx, `
		SELECT id::text, kind, coalesce(document_id::text, ''), summary, read_at, created_at FROM notifications n
		WHERE user_id = $1 AND ($2::uuid IS NULL OR (created_at, id) < (
			SELECT created_at, id FROM notifications WHERE id = $2 AND user_id = $1))
		ORDER BY created_at DESC, id DESC LIMIT $3`, p.ID, nullUUID(before), limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("notifications: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) {
		var n Notification
		err := r.Scan(&n.ID, &n.Kind, &n.DocumentID, &n.Summary, &n.ReadAt, &n.CreatedAt)
		return n, err
	})
	if err != nil {
		return Page{}, fmt.Errorf("notifications: %w", err)
	}
	if len(items) > limit {
		items = items[:limit]
		page.Next = items[limit-1].ID
	}
	page.Items = append(page.Items, items...)
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", p.ID).Scan(&page.Unread); err != nil {
		return Page{}, fmt.Errorf("notifications: unread: %w", err)
	}
	return page, nil
}

// MarkRead marks one of p's notifications read; another's is not found.
// Reading is the user's own view, not a change to the office's records,
// so it is not audited.
func (e *Engine) MarkRead(ctx context.Context, p accounts.Principal, id string) error {
	if err := accounts.Authorize(p, accounts.NotificationRead, accounts.Target{UserID: p.ID}); err != nil {
		return err
	}
	if !validUUID(id) || p.ID == "" {
		return storage.ErrNotFound
	}
	tag, err := e.db.Pool.Exec(ctx, "UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2", id, p.ID)
	if err != nil {
		return fmt.Errorf("mark notification read: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// Preferences are a user's channels: in-app always, e-mail when on.
type Preferences struct {
	Email   string `json:"email"`
	EmailOn bool   `json:"email_on"`
}

// GetPreferences returns p's channels.
func (e *Engine) GetPreferences(ctx context.Context, p accounts.Principal) (Preferences, error) {
	if err := accounts.Authorize(p, accounts.NotificationRead, accounts.Target{UserID: p.ID}); err != nil {
		return Preferences{}, err
	}
	var pr Preferences
	err := e.db.Pool.QueryRow(ctx, "SELECT email, email_on FROM notification_preferences WHERE user_id = $1", nullUUID(p.ID)).Scan(&pr.Email, &pr.EmailOn)
	if errors.Is(err, pgx.ErrNoRows) {
		return Preferences{}, nil
	}
	if err != nil {
		return Preferences{}, fmt.Errorf("notification preferences: %w", err)
	}
	return pr, nil
}

// SetPreferences records p's channels, with its audit entry.
func (e *Engine) SetPreferences(ctx context.Context, p accounts.Principal, pr Preferences) (Preferences, error) {
	if err := accounts.Authorize(p, accounts.NotificationRead, accounts.Target{UserID: p.ID}); err != nil {
		return Preferences{}, err
	}
	if p.ID == "" {
		return Preferences{}, invalid("this account cannot receive notifications")
	}
	pr.Email = strings.TrimSpace(pr.Email)
	if pr.Email != "" {
		a, err := mail.ParseAddress(pr.Email)
		if err != nil || a.Address != pr.Email || len(pr.Email) > 254 {
			return Preferences{}, because(rEmailFormat, invalid("email must be a plain e-mail address such as name@example.gov.vn"))
		}
	}
	if pr.EmailOn && pr.Email == "" {
		return Preferences{}, because(rEmailRequired, invalid("e-mail notifications need an e-mail address"))
	}
	err := e.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notification_preferences (user_id, email, email_on) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET email = $2, email_on = $3, updated_at = now()`, p.ID, pr.Email, pr.EmailOn); err != nil {
			return fmt.Errorf("notification preferences: %w", err)
		}
		return audit.Append(ctx, tx, p.Event("notification.preferences", "user:"+p.ID, map[string]any{"email": pr.Email, "email_on": pr.EmailOn}))
	})
	if err != nil {
		return Preferences{}, err
	}
	return pr, nil
}

// Webhook is an endpoint as listed (never with its secret).
type Webhook struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	URL            string    `json:"url"`
	AllowPrivate   bool      `json:"allow_private"`
	CreatedAt      time.Time `json:"created_at"`
}

// NewWebhook is what an administrator asks for.
type NewWebhook struct {
	URL string `json:"url"`
	// AllowPrivate lets the endpoint be on a private or loopback address:
	// only the system administrator may allow that.
	AllowPrivate bool `json:"allow_private"`
}

// CreatedWebhook is a new endpoint with its secret, shown this once.
type CreatedWebhook struct {
	Webhook
	Secret string `json:"secret"`
}

// lookupHost resolves webhook hosts; tests may not replace it.
var lookupHost = net.DefaultResolver.LookupNetIP

// CreateWebhook adds an endpoint to an organisation (its administrator, or
// the system administrator).
func (e *Engine) CreateWebhook(ctx context.Context, p accounts.Principal, orgID string, n NewWebhook) (CreatedWebhook, error) {
	if !validUUID(orgID) {
		return CreatedWebhook{}, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.WebhookManage, accounts.Target{OrgID: orgID}); err != nil {
		return CreatedWebhook{}, err
	}
	if n.AllowPrivate && !p.IsSuperadmin {
		return CreatedWebhook{}, because(rUrlPrivateAdmin, fmt.Errorf("%w: only the system administrator allows webhooks to private or loopback addresses", accounts.ErrForbidden))
	}
	if err := checkWebhookURL(ctx, n.URL, n.AllowPrivate); err != nil {
		return CreatedWebhook{}, err
	}
	secret, err := randomSecret(32)
	if err != nil {
		return CreatedWebhook{}, fmt.Errorf("webhook secret: %w", err)
	}
	secret = "whsec_" + secret
	var w CreatedWebhook
	err = e.db.InTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)", orgID).Scan(&exists); err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		if !exists {
			return storage.ErrNotFound
		}
		err := tx.QueryRow(ctx, `INSERT INTO webhook_endpoints (organization_id, url, secret, allow_private, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING id::text, organization_id::text, url, allow_private, created_at`,
			orgID, n.URL, []byte(secret), n.AllowPrivate, nullUUID(p.ID)).Scan(&w.ID, &w.OrganizationID, &w.URL, &w.AllowPrivate, &w.CreatedAt)
		if err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		ev := p.Event("webhook.create", "webhook:"+w.ID, map[string]any{"url": w.URL, "internal_addresses_allowed": w.AllowPrivate})
		ev.OrgID = orgID
		return audit.Append(ctx, tx, ev)
	})
	if err != nil {
		return CreatedWebhook{}, err
	}
	w.Secret = secret
	return w, nil
}

// checkWebhookURL accepts an http(s) URL whose host resolves only to
// public addresses, or to any when allowPrivate.
func checkWebhookURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" || len(raw) > 2000 {
		return because(rUrl, invalid("url must be an http or https URL without credentials"))
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = lookupHost(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return because(rUrlUnresolved, invalid("url: the host %s does not resolve", host), host)
		}
	}
	for _, a := range addrs {
		if !publicAddress(a) {
			return because(rUrlPrivate, invalid("url: %s resolves to %s: %s", host, a, errPrivateAddress), host)
		}
	}
	return nil
}

// Webhooks lists an organisation's endpoints.
func (e *Engine) Webhooks(ctx context.Context, p accounts.Principal, orgID string) ([]Webhook, error) {
	if !validUUID(orgID) {
		return nil, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.WebhookManage, accounts.Target{OrgID: orgID}); err != nil {
		return nil, err
	}
	rows, err := e.db.Pool.Query(ctx, `SELECT id::text, organization_id::text, url, allow_private, created_at FROM webhook_endpoints
		WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	ws, err := pgx.CollectRows(rows, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	return append([]Webhook{}, ws...), nil
}

func scanWebhook(r pgx.CollectableRow) (Webhook, error) {
	var w Webhook
	err := r.Scan(&w.ID, &w.OrganizationID, &w.URL, &w.AllowPrivate, &w.CreatedAt)
	return w, err
}

// webhookOrg finds the organisation of an endpoint (deleted ones too, for
// their delivery log).
func (e *Engine) webhookOrg(ctx context.Context, q storage.Querier, id string) (orgID string, deleted bool, err error) {
	if !validUUID(id) {
		return "", false, storage.ErrNotFound
	}
	err = q.QueryRow(ctx, "SELECT organization_id::text, deleted_at IS NOT NULL FROM webhook_endpoints WHERE id = $1", id).Scan(&orgID, &deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, storage.ErrNotFound
	}
	return orgID, deleted, err
}

// DeleteWebhook stops deliveries to an endpoint; its log stays.
func (e *Engine) DeleteWebhook(ctx context.Context, p accounts.Principal, orgID, id string) error {
	if !validUUID(orgID) {
		return storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.WebhookManage, accounts.Target{OrgID: orgID}); err != nil {
		return err
	}
	return e.db.InTx(ctx, func(tx pgx.Tx) error {
		org, deleted, err := e.webhookOrg(ctx, tx, id)
		if err != nil {
			return err
		}
		if org != orgID || deleted {
			return storage.ErrNotFound
		}
		if _, err := tx.Exec(ctx, "UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1", id); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		ev := p.Event("webhook.delete", "webhook:"+id, nil)
		ev.OrgID = orgID
		return audit.Append(ctx, tx, ev)
	})
}

// Delivery is one attempt in an endpoint's delivery log.
type Delivery struct {
	ID         int64     `json:"id"`
	EventID    string    `json:"event_id"`
	Event      string    `json:"event"`
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error,omitempty"`
	Succeeded  bool      `json:"succeeded"`
	At         time.Time `json:"at"`
}

// WebhookDeliveries returns the last 200 attempts at an endpoint, newest
// first.
func (e *Engine) WebhookDeliveries(ctx context.Context, p accounts.Principal, id string) ([]Delivery, error) {
	orgID, _, err := e.webhookOrg(ctx, e.db.Pool, id)
	if err != nil {
		return nil, err
	}
	if err := accounts.Authorize(p, accounts.WebhookManage, accounts.Target{OrgID: orgID}); err != nil {
		return nil, err
	}
	rows, err := e.db.Pool.Query(ctx, `SELECT d.id, d.event_id::text, ev.kind, d.attempt, d.status_code, d.error, d.succeeded, d.created_at
		FROM webhook_deliveries d JOIN notify_events ev ON ev.id = d.event_id
		WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT 200`, id)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := r.Scan(&d.ID, &d.EventID, &d.Event, &d.Attempt, &d.StatusCode, &d.Error, &d.Succeeded, &d.At)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	return append([]Delivery{}, ds...), nil
}
