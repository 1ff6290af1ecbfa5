package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// TestBrowserRolesAndDelegations: the administrator gives the drafter the
// reviewer role and is refused dropping their own (the last) administrator
// role; the chairman, on a phone, delegates KT. signing of decisions to
// the vice-chairman for a week and ends it again. Every page passes
// axe-core; the stored roles and delegation are what the pages said.
func TestBrowserRolesAndDelegations(t *testing.T) {
	e := newEnv(t)
	e.user("chutich", "Phạm Văn Chủ", storage.RoleSigner)
	deputy := e.user("phochutich", "Hoàng Thị Phó", storage.RoleSigner)
	drafter := e.users["chuyenvien"]
	admin := e.users["quantri"]
	b := newBrowser(t, e)
	b.login("quantri")

	b.do("users page", chromedp.Navigate(e.url+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/users/`+drafter.ID+`/roles"]`)))
	b.accessible("admin users")
	b.do("open the drafter's roles", chromedp.Click(chromedp.CSS(`a[href="/admin/users/`+drafter.ID+`/roles"]`)))
	b.waitPath("roles page", regexp.MustCompile(`^/admin/users/[0-9a-f-]{36}/roles$`))
	b.do("roles form", chromedp.WaitVisible(chromedp.CSS(`input[name=roles][value=reviewer]`)))
	b.accessible("roles")
	b.do("add the reviewer role", chromedp.Click(chromedp.CSS(`input[name=roles][value=reviewer]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/roles"] button[type=submit]`)))
	b.waitFor("roles saved", `(document.querySelector(".notice") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "Đã cập nhật vai trò") })
	if u, err := storage.GetUser(t.Context(), e.db.Pool, drafter.ID); err != nil || !slices.Equal(u.Roles, []string{storage.RoleDrafter, storage.RoleReviewer}) {
		t.Fatalf("stored roles %v %v", u.Roles, err)
	}
	b.accessible("roles (saved)")

	b.do("own roles", chromedp.Navigate(e.url+"/admin/users/"+admin.ID+"/roles"), chromedp.WaitVisible(chromedp.CSS(`input[name=roles][value=admin]`)))
	b.do("drop the last admin role", chromedp.Click(chromedp.CSS(`input[name=roles][value=admin]`)),
		chromedp.Click(chromedp.CSS(`input[name=roles][value=auditor]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/roles"] button[type=submit]`)))
	b.waitFor("refused", `(document.querySelector("[role=alert]") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "người quản trị cuối cùng") })
	b.accessible("roles (refused)")
	if u, err := storage.GetUser(t.Context(), e.db.Pool, admin.ID); err != nil || !slices.Equal(u.Roles, []string{storage.RoleAdmin}) {
		t.Fatalf("the last administrator's roles became %v %v", u.Roles, err)
	}

	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("chutich")
	b.do("delegations from the menu", chromedp.Navigate(e.url+"/admin/delegations"), chromedp.WaitVisible(chromedp.ID("new-delegation")))
	b.accessible("delegations (phone)")
	b.noOverflow("delegations (phone)")
	b.do("new delegation", chromedp.Click(chromedp.ID("new-delegation")))
	b.waitPath("delegation form", regexp.MustCompile(`^/admin/delegations/new$`))
	b.do("delegation form", chromedp.WaitVisible(chromedp.ID("dl-to")))
	b.accessible("delegation form (phone)")
	b.noOverflow("delegation form (phone)")
	b.do("fill the delegation", chromedp.SetValue(chromedp.ID("dl-to"), deputy.ID), chromedp.SetValue(chromedp.ID("dl-form"), "KT"),
		chromedp.Click(chromedp.CSS(`input[name=types][value="QĐ"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/admin/delegations"] button[type=submit]`)))
	b.waitPath("delegations after creating", regexp.MustCompile(`^/admin/delegations$`))
	b.waitFor("the delegation listed", `(document.querySelector("main table") || {}).textContent || ""`, func(s string) bool {
		return strings.Contains(s, "Hoàng Thị Phó") && strings.Contains(s, "Đang hoạt động")
	})
	b.accessible("delegations with one (phone)")
	b.noOverflow("delegations with one (phone)")
	ds, err := storage.ListDelegations(t.Context(), e.db.Pool, e.org.ID, "")
	if err != nil || len(ds) != 1 || ds[0].ToUser != deputy.ID || ds[0].Form != accounts.FormDeputy || !slices.Equal(ds[0].DocumentTypes, []string{"QĐ"}) ||
		ds[0].RevokedAt != nil || ds[0].EndsAt.Sub(ds[0].StartsAt) < 7*24*time.Hour-time.Minute {
		t.Fatalf("stored delegations %+v %v", ds, err)
	}
	b.do("end it", chromedp.Click(chromedp.CSS(`form[action="/admin/delegations/`+ds[0].ID+`/end"] button`)))
	b.waitFor("the delegation ended", `(document.querySelector("main table") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "Đã thu hồi") })
	if d, err := storage.GetDelegation(t.Context(), e.db.Pool, ds[0].ID); err != nil || d.RevokedAt == nil {
		t.Fatalf("delegation after ending %+v %v", d, err)
	}
	t.Logf("axe-core checked: %v", b.checked)
}

// TestPeoplePagesRefuse: who may not change roles or delegations reads a
// page (403, or 404 for another organisation's), and nothing changes.
func TestPeoplePagesRefuse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	head := e.user("chutich", "Phạm Văn Chủ", storage.RoleSigner)
	deputy := e.user("phochutich", "Hoàng Thị Phó", storage.RoleSigner)
	drafter := e.users["chuyenvien"]
	other, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: "UBNDH", Name: "Ủy ban nhân dân huyện"})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: "quantri.huyen", FullName: "Quản trị huyện", OrganizationID: other.ID, Roles: []string{storage.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := testPasswordHash()
	if err := storage.SetPassword(ctx, e.db.Pool, outsider.ID, hash); err != nil {
		t.Fatal(err)
	}
	d, err := e.accounts.CreateDelegation(ctx, operator, storage.Delegation{FromUser: head.ID, ToUser: deputy.ID, Form: "KT", EndsAt: time.Now().AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	clerk, stranger, deputyC := e.client(), e.client(), e.client()
	e.login(clerk, "chuyenvien")
	e.login(stranger, "quantri.huyen")
	e.login(deputyC, "phochutich")
	get := func(c *http.Client, path string) (int, string) {
		resp, err := c.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: %s, want a page", path, ct)
		}
		return resp.StatusCode, string(body)
	}
	for _, c := range []struct {
		name string
		who  *http.Client
		path string
		want int
	}{
		{"a drafter opens roles", clerk, "/admin/users/" + drafter.ID + "/roles", http.StatusForbidden},
		{"another organisation's admin opens roles", stranger, "/admin/users/" + drafter.ID + "/roles", http.StatusNotFound},
		{"an unknown user", stranger, "/admin/users/not-an-id/roles", http.StatusNotFound},
		{"a drafter opens the delegation form", clerk, "/admin/delegations/new", http.StatusForbidden},
	} {
		if got, body := get(c.who, c.path); got != c.want || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %d, want %d with a readable page", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name, path, form string
		who              *http.Client
		want             int
	}{
		{"a drafter sets roles", "/admin/users/" + drafter.ID + "/roles", "roles=admin", clerk, http.StatusForbidden},
		{"another organisation's admin sets roles", "/admin/users/" + drafter.ID + "/roles", "roles=admin", stranger, http.StatusNotFound},
		{"a drafter delegates", "/admin/delegations", "to=" + deputy.ID + "&form=KT&starts=2030-01-01&ends=2030-01-02", clerk, http.StatusForbidden},
		{"a bad date", "/admin/delegations", "to=" + deputy.ID + "&form=KT&starts=mai&ends=2030-01-02", deputyC, http.StatusUnprocessableEntity},
		{"the delegate ends the delegation", "/admin/delegations/" + d.ID + "/end", "", deputyC, http.StatusForbidden},
		{"another organisation ends it", "/admin/delegations/" + d.ID + "/end", "", stranger, http.StatusNotFound},
	} {
		if resp := e.post(c.who, c.path, c.form, nil); resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	if u, err := storage.GetUser(ctx, e.db.Pool, drafter.ID); err != nil || !slices.Equal(u.Roles, []string{storage.RoleDrafter}) {
		t.Fatalf("drafter's roles %v %v", u.Roles, err)
	}
	ds, err := storage.ListDelegations(ctx, e.db.Pool, e.org.ID, "")
	if err != nil || len(ds) != 1 || ds[0].RevokedAt != nil {
		t.Fatalf("delegations after refusals %+v %v", ds, err)
	}
}

// TestPublicLimitPage: past the address's limit, a browser following a QR
// code reads a page in Vietnamese (429, Retry-After); the API's client
// still gets problem+json.
func TestPublicLimitPage(t *testing.T) {
	e := newEnv(t)
	e.configure(func(s *web.Server) { s.PublicVerifyLimit = publicverify.Limit{Requests: 1, Window: time.Hour} })
	c := e.client()
	ask := func(accept string) *http.Response {
		req, _ := http.NewRequest("GET", e.url+"/v/ABCDEFGHJKMN", nil)
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ask("text/html").Body.Close() // the one allowed
	resp := ask("text/html,application/xhtml+xml")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "tra cứu quá nhiều lần") {
		t.Fatalf("browser past the limit: %d %q %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
	}
	resp = ask("application/json")
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("API past the limit: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestBrowserInboxOnBehalf: once the chairman delegated KT. signing to the
// vice-chairman, the vice-chairman's inbox on a phone shows the chairman's
// turn "thay mặt Nguyễn Văn An (KT.)", and "on behalf of" in English.
func TestBrowserInboxOnBehalf(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	deputy := w.titled("pho", "Trịnh Văn Phó", "Phó Chủ tịch", storage.RoleSigner)
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định giao chỉ tiêu")
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc.ID+"/submit", "application/json", js(map[string]string{"template_id": w.template}), http.StatusOK)
	w.api("truongphong", "POST", "/api/v1/documents/"+doc.ID+"/actions", "application/json", js(map[string]string{"action": "approve"}), http.StatusOK)
	if _, err := e.accounts.CreateDelegation(t.Context(), operator, storage.Delegation{FromUser: e.users["an"].ID, ToUser: deputy.ID, Form: "KT",
		StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().AddDate(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("pho")
	row := b.waitFor("the chairman's turn", `(document.querySelector("table.inbox") || {}).textContent || ""`, func(s string) bool {
		return strings.Contains(s, "Quyết định giao chỉ tiêu")
	})
	if !strings.Contains(row, "thay mặt Nguyễn Văn An (KT.)") {
		t.Errorf("inbox row %q lacks thay mặt", row)
	}
	b.accessible("inbox on behalf (phone)")
	b.noOverflow("inbox on behalf (phone)")
	b.switchLanguage("english", "en")
	if row := b.text("inbox in English", "table.inbox"); !strings.Contains(row, "on behalf of Nguyễn Văn An (KT.)") {
		t.Errorf("English inbox row %q", row)
	}
}
