package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// The notification and webhook routes: one's own notifications only, and
// an organisation's webhooks for its administrators only.
func TestNotificationAndWebhookRoutes(t *testing.T) {
	e := newEnv(t, 1<<20)
	as := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	if resp, _ := e.do("GET", "/api/v1/notifications", nil, "", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("without the engine: %d", resp.StatusCode)
	}
	engine, err := notify.New(e.db, notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.configure(func(s *web.Server) { s.Notify = engine })
	org := e.office.org.ID
	alice := e.member(org, "alice", []string{storage.RoleDrafter}, e.office.units["VP"].ID)
	bob := e.member(org, "bob", []string{storage.RoleReviewer}, e.office.units["VP"].ID)
	admin := e.member(org, "quantri", []string{storage.RoleAdmin})
	otherOrg := e.newOffice("SOKHAC", "Sở khác", "VP")
	otherAdmin := e.member(otherOrg.org.ID, "quantrikhac", []string{storage.RoleAdmin})

	ctx := context.Background()
	if err := e.db.InTx(ctx, func(tx pgx.Tx) error {
		return engine.Publish(ctx, tx, events.Event{Kind: events.DocumentAssigned, OrganizationID: org,
			UserIDs: []string{alice.user.ID}, Summary: "Được giao xử lý"})
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do("GET", "/api/v1/notifications", nil, "", as(alice.token))
	page := decode[notify.Page](t, body)
	if resp.StatusCode != http.StatusOK || len(page.Items) != 1 || page.Unread != 1 {
		t.Fatalf("alice's notifications: %d %s", resp.StatusCode, body)
	}
	id := page.Items[0].ID
	if resp, _ := e.do("POST", "/api/v1/notifications/"+id+"/read", nil, "", as(bob.token)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("bob reads alice's notification: %d", resp.StatusCode)
	}
	if resp, _ := e.do("POST", "/api/v1/notifications/"+id+"/read", nil, "", map[string]string{"Authorization": ""}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credential: %d", resp.StatusCode)
	}
	if resp, _ := e.do("POST", "/api/v1/notifications/"+id+"/read", nil, "", as(alice.token)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("alice reads hers: %d", resp.StatusCode)
	}
	if _, body := e.do("GET", "/api/v1/notifications", nil, "", as(alice.token)); decode[notify.Page](t, body).Unread != 0 {
		t.Fatalf("after reading: %s", body)
	}
	if resp, _ := e.do("GET", "/api/v1/notifications?limit=abc", nil, "", as(alice.token)); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad limit: %d", resp.StatusCode)
	}
	if resp, _ := e.do("PUT", "/api/v1/notifications/preferences", strings.NewReader(`{"email":"not mail","email_on":true}`), "application/json", as(alice.token)); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad e-mail: %d", resp.StatusCode)
	}
	if resp, body := e.do("PUT", "/api/v1/notifications/preferences", strings.NewReader(`{"email":"alice@xa.gov.vn","email_on":true}`), "application/json", as(alice.token)); resp.StatusCode != http.StatusOK {
		t.Fatalf("preferences: %d %s", resp.StatusCode, body)
	}

	hooks := "/api/v1/organizations/" + org + "/webhooks"
	public := `{"url":"https://203.0.113.10/hook"}`
	for _, c := range []struct {
		who    string
		token  string
		body   string
		status int
	}{
		{"a drafter", alice.token, public, http.StatusForbidden},
		{"another organisation's administrator", otherAdmin.token, public, http.StatusNotFound},
		{"a loopback endpoint", admin.token, `{"url":"http://127.0.0.1:9/hook"}`, http.StatusUnprocessableEntity},
		{"allow_private by the organisation's administrator", admin.token, `{"url":"http://127.0.0.1:9/hook","allow_private":true}`, http.StatusForbidden},
		{"not JSON", admin.token, `{`, http.StatusBadRequest},
	} {
		if resp, body := e.do("POST", hooks, strings.NewReader(c.body), "application/json", as(c.token)); resp.StatusCode != c.status {
			t.Fatalf("%s: %d %s", c.who, resp.StatusCode, body)
		}
	}
	resp, body = e.do("POST", hooks, strings.NewReader(public), "application/json", as(admin.token))
	created := decode[notify.CreatedWebhook](t, body)
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("GET", hooks, nil, "", as(admin.token)); resp.StatusCode != http.StatusOK || strings.Contains(string(body), created.Secret) || !strings.Contains(string(body), created.ID) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do("GET", hooks, nil, "", as(alice.token)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a drafter lists webhooks: %d", resp.StatusCode)
	}
	deliveries := "/api/v1/webhooks/" + created.ID + "/deliveries"
	if resp, _ := e.do("GET", deliveries, nil, "", as(otherAdmin.token)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation's log: %d", resp.StatusCode)
	}
	if resp, body := e.do("GET", deliveries, nil, "", as(admin.token)); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"deliveries":[]`) {
		t.Fatalf("log: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do("DELETE", hooks+"/"+created.ID, nil, "", as(otherAdmin.token)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation deletes: %d", resp.StatusCode)
	}
	if resp, _ := e.do("DELETE", hooks+"?id="+created.ID, nil, "", as(admin.token)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := e.do("DELETE", hooks+"/"+created.ID, nil, "", as(admin.token)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("delete twice: %d", resp.StatusCode)
	}
}
