package ui_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// getPage reads a page with c in lang: its status and body.
func (e *env) getPage(c *http.Client, path, lang string) (int, string) {
	e.t.Helper()
	return e.send(c, "GET", path, "", lang)
}

// send sends a page request (a form when method is POST) in lang.
func (e *env) send(c *http.Client, method, path, form, lang string) (int, string) {
	e.t.Helper()
	u, _ := url.Parse(e.url)
	if lang != "" {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "vanthu_lang", Value: lang, Path: "/"}})
	}
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.url)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRefusalsInThePagesLanguage: each refusal a person can cause on the
// administration and people forms reads in the page's language, Vietnamese
// and English, and says what to do; the service's English reason does not
// show through on the Vietnamese page.
func TestRefusalsInThePagesLanguage(t *testing.T) {
	e := newEnv(t)
	signer := e.user("chutich", "Phạm Văn Chủ", storage.RoleSigner)
	drafter, admin := e.users["chuyenvien"], e.users["quantri"]
	e.superadmin()
	adminC, signerC, rootC := e.client(), e.client(), e.client()
	e.login(adminC, "quantri")
	e.login(signerC, "chutich")
	e.login(rootC, "hethong")
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
	deleg := func(to, form, starts, ends, basis string) string {
		return url.Values{"to": {to}, "form": {form}, "starts": {starts}, "ends": {ends}, "basis": {basis}}.Encode()
	}
	cases := []struct {
		name     string
		c        *http.Client
		path     string
		form     string
		status   int
		vi, en   string
		englishV string // the service's English reason, absent from the vi page
	}{
		{"an unknown role", adminC, "/admin/users/" + drafter.ID + "/roles", "roles=emperor", 422,
			"Không có vai trò", "There is no role", "unknown role"},
		{"the last administrator", adminC, "/admin/users/" + admin.ID + "/roles", "roles=auditor", 409,
			"người quản trị cuối cùng còn hoạt động của cơ quan; hãy giao vai trò quản trị", "last enabled administrator; make someone else", "last enabled administrator"},
		{"disabling the last administrator", rootC, "/admin/users/" + admin.ID + "/access", "disabled=true", 409,
			"người quản trị cuối cùng còn hoạt động", "last enabled administrator", "last enabled administrator"},
		{"disabling oneself", adminC, "/admin/users/" + admin.ID + "/access", "disabled=true", 403,
			"Không thể tự khóa hoặc mở khóa tài khoản của chính mình", "You cannot disable or enable your own account", "cannot disable or enable itself"},
		{"a malformed username", adminC, "/admin/users", "username=A+B&full_name=X", 422,
			"Tên đăng nhập gồm 2–64", "The username must be 2–64", "username must be"},
		{"a taken username", adminC, "/admin/users", "username=chuyenvien&full_name=X", 422,
			"Tên đăng nhập chuyenvien đã có người dùng", "The username chuyenvien is taken; choose another", "is taken"},
		{"no full name", adminC, "/admin/users", "username=moi&full_name=", 422,
			"Hãy nhập họ và tên", "Enter the full name", "full_name is required"},
		{"a short password", adminC, "/admin/users", "username=moi&full_name=X&password=abc", 422,
			"Mật khẩu phải có ít nhất", "The password must have at least", "password must have"},
		{"a malformed unit code", adminC, "/admin/units", "code=A%2FB&name=X", 422,
			"Mã phải có 1–20 ký tự", "The code must be 1–20 characters", "must be 1–20 characters"},
		{"a taken unit code", adminC, "/admin/units", "code=VP&name=X", 422,
			"Mã VP đã được một đơn vị khác", "The code VP is taken by another unit", "is taken by another unit"},
		{"a unit without a name", adminC, "/admin/units", "code=KT&name=", 422,
			"Hãy nhập tên", "Enter a name", "name is required"},
		{"a delegation to oneself", signerC, "/admin/delegations", deleg(signer.ID, "KT", day(0), day(3), ""), 422,
			"Không thể tự ủy quyền", "Nobody delegates to themselves", "cannot delegate to themselves"},
		{"a delegation to a non-signer", signerC, "/admin/delegations", deleg(drafter.ID, "KT", day(0), day(3), ""), 422,
			"không có vai trò người ký", "does not hold the signer role; choose a signer", "does not hold the signer role"},
		{"a period ending before it starts", signerC, "/admin/delegations", deleg(e.user("pho", "Hoàng Thị Phó", storage.RoleSigner).ID, "KT", day(5), day(2), ""), 422,
			"trước khi bắt đầu", "; correct the dates", "before it starts ("},
		{"an unknown authority form", signerC, "/admin/delegations", deleg(e.users["pho"].ID, "XX", day(0), day(2), ""), 422,
			"Không có hình thức ký", "There is no authority form", "unknown authority form"},
		{"TUQ. without a basis", signerC, "/admin/delegations", deleg(e.users["pho"].ID, "TUQ", day(0), day(2), ""), 422,
			"phải ghi căn cứ", "enter the basis", "needs the written authorisation"},
	}
	// The form itself works: the administrator disables the drafter and
	// enables them again.
	for _, v := range []string{"true", "false"} {
		if status, body := e.send(adminC, "POST", "/admin/users/"+drafter.ID+"/access", "disabled="+v, "vi"); status != http.StatusOK || !strings.Contains(body, "tài khoản của Nguyễn Văn An") {
			t.Fatalf("disabled=%s: %d %s", v, status, alertOf(body))
		}
		if u, err := storage.GetUser(t.Context(), e.db.Pool, drafter.ID); err != nil || (u.DisabledAt != nil) != (v == "true") {
			t.Fatalf("after disabled=%s: %+v %v", v, u.DisabledAt, err)
		}
	}
	for _, c := range cases {
		for _, lang := range []string{"vi", "en"} {
			t.Run(c.name+"/"+lang, func(t *testing.T) {
				status, body := e.send(c.c, "POST", c.path, c.form, lang)
				want := map[string]string{"vi": c.vi, "en": c.en}[lang]
				if status != c.status || !strings.Contains(body, want) {
					t.Fatalf("%d, want %d with %q in:\n%s", status, c.status, want, alertOf(body))
				}
				if lang == "vi" && strings.Contains(alertOf(body), c.englishV) {
					t.Fatalf("the Vietnamese page shows the English reason %q: %s", c.englishV, alertOf(body))
				}
			})
		}
	}
}

// alertOf is the refusal a page shows (its role=alert element), or the
// whole body when it has none.
func alertOf(body string) string {
	i := strings.Index(body, `role="alert"`)
	if i < 0 {
		return body
	}
	rest := body[i:]
	if j := strings.Index(rest, "</div>"); j > 0 {
		rest = rest[:j] // the summary: its heading and its list
	}
	return rest
}

// TestJunkNeverAnswers500: every page route, GET and POST, as each role of
// the office (and the system administrator), with junk in its IDs (not a
// UUID, an unknown UUID, another organisation's) and in its form (empty,
// malformed values, unknown choices): the answer is a readable page, never
// a 500.
func TestJunkNeverAnswers500(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, r := range storage.AllRoles {
		if _, ok := e.users[r]; !ok {
			e.user("demo."+r, "Người "+r, r)
		}
	}
	e.superadmin()
	other, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: "UBNDK", Name: "Ủy ban nhân dân xã Khác"})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: "nguoi.khac", FullName: "Người khác", OrganizationID: other.ID, Roles: []string{storage.RoleSigner}})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"khong-phai-uuid", "6f1c1f4e-0000-4000-8000-000000000000", stranger.ID, other.ID, "%27%3B--"}
	forms := []string{
		"",
		"org=junk&user=junk&to=junk&from=junk&roles=emperor&units=junk&types=junk&form=XX&starts=junk&ends=junk&expires=junk&scopes=junk&code=a%2Fb&name=&username=A+B&verify_qr=maybe",
		"org=" + other.ID + "&user=" + stranger.ID + "&to=" + stranger.ID + "&from=" + stranger.ID + "&units=" + other.ID + "&starts=2026-01-01&ends=2025-01-01",
		"org=6f1c1f4e-0000-4000-8000-000000000000&to=6f1c1f4e-0000-4000-8000-000000000000&roles=&expires=1999-01-01&scopes=*",
	}
	routes := pageRoutes(t, *e.handler.Load())
	// The citizen's download links answer problem+json by design.
	skip := map[string]bool{"POST /logout": true, "GET /static/*": true, "GET /c/{token}": true, "GET /c/{token}/{n}": true}
	users := []string{}
	for name := range e.users {
		users = append(users, name)
	}
	slices.Sort(users)
	for _, name := range users {
		c := e.client()
		e.login(c, name)
		for _, rt := range routes {
			if skip[rt] {
				continue
			}
			method, pattern, _ := strings.Cut(rt, " ")
			for _, id := range ids {
				path := strings.NewReplacer("{id}", id, "{n}", "x", "{token}", id, "{code}", id, "{webhook}", id, "{version}", id, "*", id).Replace(pattern)
				if !strings.Contains(pattern, "{") {
					if id != ids[0] {
						continue
					}
				}
				bodies := []string{""}
				if method == "POST" {
					bodies = forms
				}
				for _, form := range bodies {
					status, body := e.send(c, method, path, form, "")
					if status >= 500 || status >= 400 && !strings.Contains(body, "<h1>") {
						t.Errorf("%s: %s %s with %q: %d\n%.300s", name, method, path, form, status, alertOf(body))
					}
				}
			}
			// The session survives everything (a POST /logout is skipped).
		}
	}
}
