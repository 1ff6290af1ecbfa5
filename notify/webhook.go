package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// The headers of a webhook delivery.
const (
	HeaderEvent     = "X-Vanthu-Event"     // the event's kind
	HeaderEventID   = "X-Vanthu-Event-Id"  // the same for every attempt: receivers drop repeats by it
	HeaderTimestamp = "X-Vanthu-Timestamp" // Unix seconds when this attempt was signed
	HeaderSignature = "X-Vanthu-Signature" // "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Sign is the signature of a webhook body sent at timestamp (Unix seconds)
// with an endpoint's secret: what HeaderSignature carries.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// webhookArgs delivers one event to one endpoint.
type webhookArgs struct {
	EndpointID string `json:"endpoint_id"`
	EventID    string `json:"event_id"`
}

func (webhookArgs) Kind() string                 { return "webhook" }
func (webhookArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: unique} }

type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	e *Engine
}

// webhookBody is the JSON a receiver gets.
type webhookBody struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	CreatedAt      time.Time       `json:"created_at"`
	OrganizationID string          `json:"organization_id,omitempty"`
	DocumentID     string          `json:"document_id,omitempty"`
	ActorID        string          `json:"actor_id,omitempty"`
	Summary        string          `json:"summary,omitempty"`
	Data           json.RawMessage `json:"data"`
}

// allowPrivateKey marks a request whose endpoint may resolve to private
// addresses (an administrator allowed it).
type allowPrivateKey struct{}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	var url string
	var secret []byte
	var allowPrivate, deleted, done bool
	var b webhookBody
	// On the queue's connections: those of the service's pool are the
	// requests'.
	err := w.e.queue.QueryRow(ctx, `
		SELECT w.url, w.secret, w.allow_private, w.deleted_at IS NOT NULL,
			EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.event_id = ev.id AND d.succeeded),
			ev.id, ev.kind, ev.created_at, coalesce(ev.organization_id::text, ''), coalesce(ev.document_id::text, ''),
			coalesce(ev.actor_id::text, ''), ev.summary, ev.data
		FROM webhook_endpoints w, notify_events ev WHERE w.id = $1 AND ev.id = $2`,
		job.Args.EndpointID, job.Args.EventID).Scan(&url, &secret, &allowPrivate, &deleted, &done,
		&b.ID, &b.Type, &b.CreatedAt, &b.OrganizationID, &b.DocumentID, &b.ActorID, &b.Summary, &b.Data)
	if errors.Is(err, pgx.ErrNoRows) || deleted || done {
		return nil // gone, or delivered already: never twice
	}
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	status, sendErr := w.post(context.WithValue(ctx, allowPrivateKey{}, allowPrivate), url, secret, b, body)
	ok := sendErr == nil
	msg := ""
	if sendErr != nil {
		msg = truncate(sendErr.Error(), 500)
	}
	// Logged without waiting for its flush (the queue's connections): a
	// crash that lost it lost the job's completion too, which comes after
	// it in the WAL, so the job runs again and is logged again.
	if _, err := w.e.queue.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, attempt, status_code, error, succeeded)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		job.Args.EndpointID, job.Args.EventID, job.Attempt, status, msg, ok); err != nil {
		return errors.Join(sendErr, fmt.Errorf("webhook delivery log: %w", err))
	}
	return sendErr
}

func (w *webhookWorker) post(ctx context.Context, url string, secret []byte, b webhookBody, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook: the endpoint's URL is unusable")
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vanthu-webhooks")
	req.Header.Set(HeaderEvent, b.Type)
	req.Header.Set(HeaderEventID, b.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := w.e.cfg.WebhookClient.Do(req)
	if err != nil {
		// Without the URL, which may carry the receiver's own token: the
		// error goes to the logs and the delivery log.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook: the endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// errPrivateAddress refuses an endpoint on a private or loopback address.
var errPrivateAddress = errors.New("the address is private, loopback or link-local; an administrator must allow it")

// publicAddress reports whether a is an address of the public Internet.
// An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4, the old
// compatible form) is judged by the IPv4 address it leads to: behind a
// NAT64 gateway 64:ff9b::a9fe:a9fe is 169.254.169.254.
func publicAddress(a netip.Addr) bool {
	a = a.Unmap()
	if v4, ok := embeddedIPv4(a); ok {
		a = v4
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// notPublic are the ranges the netip predicates leave out that no public
// endpoint uses: "this network" (0.0.0.0/8, which Linux connects to the
// host itself), carrier-grade NAT, IETF protocol assignments, benchmarking,
// the reserved class E and broadcast, and IPv6's deprecated site-local,
// discard, Teredo and local-use NAT64 (whose IPv4 part depends on the
// network's prefix length) prefixes.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fec0::/10"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// embeddedIPv4 is the IPv4 address an IPv6 address of NAT64's well-known
// prefix (RFC 6052), 6to4 (RFC 3056) or the deprecated IPv4-compatible form
// leads to.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	for _, p := range []netip.Prefix{nat64, ipv4Compatible} {
		if p.Contains(a) {
			return netip.AddrFrom4([4]byte(b[12:16])), true
		}
	}
	if sixToFour.Contains(a) {
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

var (
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	ipv4Compatible = netip.MustParsePrefix("::/96")
)

// webhookClient is the default client of webhooks: its dialer checks the
// address actually connected to (after DNS), so a name that resolves to a
// private address later is refused too.
func webhookClient() *http.Client {
	return &http.Client{
		Timeout:   15 * time.Second,
		Transport: permissionTransport{public: webhookTransport(false), private: webhookTransport(true)},
		// A redirect could lead to another address; webhooks do not follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// permissionTransport sends a request through the transport of its
// endpoint's permission (allowPrivateKey). Each keeps its connections
// alive, so a busy endpoint is not dialled again for every event (it was,
// once per webhook); a connection dialled for an endpoint allowed private
// addresses is kept only by the private transport, which only such
// endpoints use, so it never serves an endpoint that was not allowed them.
type permissionTransport struct{ public, private http.RoundTripper }

func (t permissionTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if allow, _ := r.Context().Value(allowPrivateKey{}).(bool); allow {
		return t.private.RoundTrip(r)
	}
	return t.public.RoundTrip(r)
}

// webhookTransport dials only public addresses unless allowPrivate, and
// checks the address it connects to, not the name it was given.
func webhookTransport(allowPrivate bool) *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
				if allowPrivate {
					return nil
				}
				ap, err := netip.ParseAddrPort(address)
				if err != nil || !publicAddress(ap.Addr()) {
					return errPrivateAddress
				}
				return nil
			}}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   16, // more than the workers posting at once
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
	}
}
