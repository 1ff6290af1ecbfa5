package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// TestPagesHideAnotherOrganisationsObjects walks every page route that
// takes an ID and, for the kinds of object the route names, gives it one of
// organisation A's: a member of organisation B who holds every role (the
// administrator too) gets 404, as the API answers an outsider, never the
// page, a 403 that tells the object exists, or a change.
func TestPagesHideAnotherOrganisationsObjects(t *testing.T) {
	e := newEnv(t)
	en := e.withNotify(notify.Config{})
	ctx := context.Background()
	docID := e.seedDocuments(t, 1)
	drafter := e.users["chuyenvien"]
	head := e.user("chutich", "Phạm Văn Dũng", storage.RoleSigner)
	deputy := e.user("phochutich", "Hoàng Thị Em", storage.RoleSigner)
	_, tok, err := e.accounts.IssueToken(ctx, operator, drafter.ID, "tool", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dg, err := e.accounts.CreateDelegation(ctx, operator, storage.Delegation{FromUser: head.ID, ToUser: deputy.ID, Form: "KT", EndsAt: time.Now().AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := en.CreateWebhook(ctx, operator, e.org.ID, notify.NewWebhook{URL: "http://127.0.0.1:1/hook", AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := storage.CreateRegister(ctx, e.db.Pool, storage.Register{OrganizationID: e.org.ID, Kind: storage.RegisterOutgoing, Name: "Sổ văn bản đi", Code: "VBĐi"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{
		"/documents/": docID, "/admin/users/": drafter.ID, "/admin/tokens/": tok.ID, "/admin/delegations/": dg.ID,
		"/admin/webhooks/": wh.ID, "/registers/": reg.ID,
	}

	other, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: "UBNDH", Name: "Ủy ban nhân dân huyện"})
	if err != nil {
		t.Fatal(err)
	}
	unit, err := e.accounts.CreateUnit(ctx, operator, storage.Unit{OrganizationID: other.ID, Code: "VP", Name: "Văn phòng"})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: "moivaitro.huyen", FullName: "Người mọi vai trò",
		OrganizationID: other.ID, UnitIDs: []string{unit.ID}, Roles: storage.AllRoles})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := testPasswordHash()
	if err := storage.SetPassword(ctx, e.db.Pool, outsider.ID, hash); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, outsider.Username)

	before := auditCount(t, e)
	tried := 0
	for _, rt := range pageRoutes(t, *e.handler.Load()) {
		method, pattern, _ := strings.Cut(rt, " ")
		if !strings.Contains(pattern, "{id}") {
			continue
		}
		prefix := pattern[:strings.Index(pattern, "{id}")]
		id, ok := ids[prefix]
		if !ok {
			t.Logf("%s: no object of organisation A in this test (its service's own tests check it)", rt)
			continue
		}
		tried++
		path := strings.NewReplacer("{id}", id, "{n}", "1").Replace(pattern)
		var status int
		if method == "GET" {
			resp, _ := get(t, c, e.url+path)
			status = resp.StatusCode
		} else {
			status = e.post(c, path, "roles=admin&action=approve&comment=x&year=2026&disabled=true", nil).StatusCode
		}
		if status != http.StatusNotFound {
			t.Errorf("%s %s with organisation A's object: %d, want 404", method, pattern, status)
		}
	}
	if tried < 15 {
		t.Fatalf("only %d routes tried", tried)
	}
	if after := auditCount(t, e); after != before {
		t.Errorf("the sweep changed something: %d audit entries, before %d", after, before)
	}
}

func auditCount(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
