package ui_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// xss is markup a user could type into any field: it must reach a page as
// text, never as an element or an attribute.
const xss = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`

// TestStoredTextIsEscapedOnPages: a subject, a file name, people's and
// units' and the organisation's names, a delegation's basis, a token's name
// and a webhook's URL holding markup are shown escaped on every page that
// lists them, to the drafter and to the administrator.
func TestStoredTextIsEscapedOnPages(t *testing.T) {
	e := newEnv(t)
	en := e.withNotify(notify.Config{})
	ctx := context.Background()
	docID := e.seedDocuments(t, 1)
	// A second document whose file was uploaded under a hostile name.
	draft, err := os.Open(fixture(t, "drafts/qd-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer draft.Close()
	drafter, err := e.accounts.AuthenticateToken(ctx, e.token(t, "chuyenvien"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.docs.StoreFile(ctx, draft, xss+".pdf")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := e.docs.CheckMeta(ctx, drafter, documents.Meta{Type: "QĐ", Subject: "Quyết định"})
	if err != nil {
		t.Fatal(err)
	}
	named, _, err := e.docs.Create(ctx, drafter, meta, stored, "")
	if err != nil {
		t.Fatal(err)
	}
	head := e.user("chutich", "Phạm Văn Dũng", storage.RoleSigner)
	deputy := e.user("phochutich", "Hoàng Thị Em", storage.RoleSigner)
	if _, err := e.accounts.CreateDelegation(ctx, operator, storage.Delegation{FromUser: head.ID, ToUser: deputy.ID, Form: "KT",
		Basis: xss, EndsAt: time.Now().AddDate(0, 0, 3)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.accounts.IssueToken(ctx, operator, e.users["chuyenvien"].ID, xss, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := en.CreateWebhook(ctx, operator, e.org.ID, notify.NewWebhook{URL: "http://127.0.0.1:1/?q=" + xss, AllowPrivate: true}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE documents SET subject = $1",
		"UPDATE users SET full_name = $1 || full_name, title = $1",
		"UPDATE units SET name = $1 || name",
		"UPDATE organizations SET name = $1 || name",
	} {
		if _, err := e.db.Pool.Exec(ctx, q, xss); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	pages := map[string][]string{
		"chuyenvien": {"/", "/documents", "/documents/" + docID, "/documents/" + named.ID, "/documents?q=" + "%3Cscript%3E"},
		"quantri": {"/admin/users", "/admin/units", "/admin/delegations", "/admin/tokens", "/admin/webhooks",
			"/admin/users/" + head.ID + "/roles", "/admin/keys"},
	}
	for user, paths := range pages {
		c := e.client()
		e.login(c, user)
		for _, p := range paths {
			resp, body := get(t, c, e.url+p)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %d", user, p, resp.StatusCode)
				continue
			}
			// The text is there, escaped: the page did show the field.
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s %s: the stored text is not shown", user, p)
			}
			for _, raw := range []string{"<script>alert", "<img src=x", "onerror=alert(2)>"} {
				if strings.Contains(body, raw) {
					i := strings.Index(body, raw)
					t.Errorf("%s %s: %q unescaped: …%s…", user, p, raw, body[max(0, i-120):min(len(body), i+80)])
				}
			}
		}
	}
}
