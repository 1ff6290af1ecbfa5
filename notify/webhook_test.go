package notify_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// receiver is a webhook endpoint that checks every signature and fails
// its first attempts.
type receiver struct {
	mu        sync.Mutex
	secret    []byte
	failFirst int
	requests  int
	badSigs   int
	delivered map[string]int // event id → times answered 200
	kinds     map[string]string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	ts := r.Header.Get(notify.HeaderTimestamp)
	if ts == "" || r.Header.Get(notify.HeaderSignature) != notify.Sign(rc.secret, ts, body) {
		rc.badSigs++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if rc.requests <= rc.failFirst {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get(notify.HeaderEventID) {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rc.delivered[ev.ID]++
	rc.kinds[ev.ID] = ev.Type
}

func (rc *receiver) snapshot() (map[string]int, int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.delivered {
		out[k] = v
	}
	return out, rc.requests, rc.badSigs
}

func TestWebhooksSignedRetriedDeliveredOnce(t *testing.T) {
	w := newWorld(t)
	rc := &receiver{failFirst: 2, delivered: map[string]int{}, kinds: map[string]string{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	e := w.engine(notify.Config{}, false)

	// Who may create what.
	var in *accounts.InputError
	if _, err := e.CreateWebhook(w.ctx, w.people["admin"], w.org.ID, notify.NewWebhook{URL: srv.URL}); !errors.As(err, &in) {
		t.Fatalf("loopback endpoint by the organisation's administrator: %v", err)
	}
	for _, bad := range []string{"ftp://example.org/", "http://user:pw@example.org/", "not a url", ""} {
		if _, err := e.CreateWebhook(w.ctx, w.people["admin"], w.org.ID, notify.NewWebhook{URL: bad}); !errors.As(err, &in) {
			t.Fatalf("url %q: %v", bad, err)
		}
	}
	if _, err := e.CreateWebhook(w.ctx, w.people["admin"], w.org.ID, notify.NewWebhook{URL: srv.URL, AllowPrivate: true}); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("allow_private by the organisation's administrator: %v", err)
	}
	if _, err := e.CreateWebhook(w.ctx, w.people["drafter"], w.org.ID, notify.NewWebhook{URL: "https://203.0.113.7/hook"}); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a drafter: %v", err)
	}
	other, err := storage.CreateOrganization(w.ctx, w.db.Pool, storage.Organization{Code: "KHAC", Name: "Cơ quan khác"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateWebhook(w.ctx, w.people["admin"], other.ID, notify.NewWebhook{URL: "https://203.0.113.7/hook"}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another organisation's webhooks: %v", err)
	}
	hook, err := e.CreateWebhook(w.ctx, w.people["root"], w.org.ID, notify.NewWebhook{URL: srv.URL + "/hook", AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hook.Secret) < 40 {
		t.Fatalf("secret %q", hook.Secret)
	}
	rc.mu.Lock()
	rc.secret = []byte(hook.Secret)
	rc.mu.Unlock()
	list, err := e.Webhooks(w.ctx, w.people["admin"], w.org.ID)
	if err != nil || len(list) != 1 || list[0].URL != srv.URL+"/hook" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if raw, _ := json.Marshal(list); json.Valid(raw) && contains(raw, hook.Secret) {
		t.Fatal("the listing shows the secret")
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE details::text LIKE '%' || $1 || '%'", hook.Secret); n != 0 {
		t.Fatal("the secret is in the audit log")
	}

	doc := w.document("Công văn về lịch tiếp dân")
	w.publish(e, events.Event{Kind: events.DocumentIssued, OrganizationID: w.org.ID, DocumentID: doc, Summary: "Đã phát hành",
		Data: map[string]any{"number": "05/UBND-VP"}})
	w.publish(e, events.Event{Kind: events.DocumentRecalled, OrganizationID: w.org.ID, DocumentID: doc, Summary: "Đã thu hồi"})
	// Another organisation's event reaches none of this one's endpoints.
	w.publish(e, events.Event{Kind: events.DocumentIssued, OrganizationID: other.ID, Summary: "Khác"})
	if err := e.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(w.ctx) })
	eventually(t, "both events delivered", func() bool { d, _, _ := rc.snapshot(); return len(d) == 2 })
	w.settled()
	delivered, requests, bad := rc.snapshot()
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if bad != 0 || requests != 4 {
		t.Fatalf("%d requests (want 2 failed + 2 delivered), %d bad signatures", requests, bad)
	}
	log, err := e.WebhookDeliveries(w.ctx, w.people["admin"], hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	ok, failed := 0, 0
	for _, d := range log {
		if d.Succeeded {
			ok++
		} else if d.StatusCode == http.StatusInternalServerError {
			failed++
		}
	}
	if ok != 2 || failed != 2 {
		t.Fatalf("delivery log: %+v", log)
	}
	if _, err := e.WebhookDeliveries(w.ctx, w.people["drafter"], hook.ID); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a drafter reads the delivery log: %v", err)
	}

	// Deleted: later events are not sent to it.
	if err := e.DeleteWebhook(w.ctx, w.people["admin"], w.org.ID, hook.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteWebhook(w.ctx, w.people["admin"], w.org.ID, hook.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	w.publish(e, events.Event{Kind: events.DocumentCompleted, OrganizationID: w.org.ID, DocumentID: doc})
	w.settled()
	if _, n, _ := rc.snapshot(); n != 4 {
		t.Fatalf("%d requests after deleting the endpoint", n)
	}
}

func contains(b []byte, s string) bool {
	return len(s) > 0 && string(b) != "" && (len(b) >= len(s)) && indexOf(string(b), s) >= 0
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
