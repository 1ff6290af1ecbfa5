package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// browser sends requests as a browser would: the session cookie it was
// given, and the headers it adds by itself.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	cookie *http.Cookie
}

func (b *browser) do(method, path string, body io.Reader, contentType string, hdr map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func (b *browser) login(username, password string, hdr map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	resp, out := b.do("POST", "/api/v1/session", strings.NewReader(string(body)), "application/json", hdr)
	for _, c := range resp.Cookies() {
		if c.Name == "vanthu_session" {
			b.cookie = c
		}
	}
	return resp, out
}

func TestLoginSessionsAndCrossOriginProtection(t *testing.T) {
	e := newEnv(t, 1<<20)
	vp := e.office.units["VP"].ID
	drafter := e.member(e.office.org.ID, "nguyenvana", []string{storage.RoleDrafter}, vp)
	e.setPassword(drafter.user.ID)
	disabled := e.member(e.office.org.ID, "nghiviec", []string{storage.RoleDrafter}, vp)
	e.setPassword(disabled.user.ID)
	if _, err := e.db.Pool.Exec(context.Background(), "UPDATE users SET disabled_at = now() WHERE id = $1", disabled.user.ID); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, base: e.url, client: http.DefaultClient}

	// One answer for an unknown user, a wrong password and a disabled account.
	var first []byte
	for _, tc := range []struct{ user, password string }{{"khongco", testPassword}, {"nguyenvana", "sai-mat-khau-roi"}, {"nghiviec", testPassword}} {
		resp, body := b.login(tc.user, tc.password, nil)
		p := decode[problem](t, body)
		if resp.StatusCode != http.StatusUnauthorized || p.Type != "/problems/bad-credentials" || b.cookie != nil {
			t.Fatalf("%s: %d %s", tc.user, resp.StatusCode, body)
		}
		if first == nil {
			first, _ = json.Marshal(p)
		} else if got, _ := json.Marshal(p); string(got) != string(first) {
			t.Errorf("%s: answer %s differs from %s", tc.user, got, first)
		}
	}
	for _, body := range []string{"", "{", `{"username": 5}`, `{"username": "a", "extra": 1}`} {
		resp, out := b.do("POST", "/api/v1/session", strings.NewReader(body), "application/json", nil)
		if p := decode[problem](t, out); resp.StatusCode != http.StatusBadRequest || p.Type != "/problems/malformed-json" {
			t.Errorf("body %q: %d %s", body, resp.StatusCode, out)
		}
	}
	// A login form posted from another site is refused.
	if resp, out := b.login("nguyenvana", testPassword, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden || b.cookie != nil {
		t.Fatalf("cross-site login: %d %s", resp.StatusCode, out)
	}

	resp, out := b.login("nguyenvana", testPassword, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusOK || b.cookie == nil || decode[storage.User](t, out).ID != drafter.user.ID {
		t.Fatalf("login: %d %s", resp.StatusCode, out)
	}
	if !b.cookie.HttpOnly || b.cookie.SameSite != http.SameSiteLaxMode || b.cookie.Path != "/" || b.cookie.Secure {
		t.Errorf("cookie over plain HTTP: %+v", b.cookie)
	}
	if resp, out := b.do("GET", "/api/v1/documents", nil, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("listing with the session: %d %s", resp.StatusCode, out)
	}
	upload := func(hdr map[string]string) int {
		body, ct := multipartBody([]part{{name: "type", value: "TB"}, {name: "subject", value: "Thông báo"},
			{name: "file", fileName: "tb.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "tb"}))}})
		resp, _ := b.do("POST", "/api/v1/documents", body, ct, hdr)
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusCreated},
		{"cross site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign Origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"no browser headers", nil, http.StatusCreated},
	} {
		if got := upload(tc.hdr); got != tc.want {
			t.Errorf("upload with the session, %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// A token is not sent by the browser on its own: no origin check.
	body, ct := multipartBody([]part{{name: "type", value: "TB"}, {name: "subject", value: "Thông báo"},
		{name: "file", fileName: "tb.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "token"}))}})
	resp, out = (&browser{t: t, base: e.url, client: http.DefaultClient}).do("POST", "/api/v1/documents", body, ct,
		map[string]string{"Authorization": "Bearer " + drafter.token, "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("token upload from a cross-site context: %d %s", resp.StatusCode, out)
	}

	// Logging out ends the session on the server, not only in the browser.
	old := b.cookie
	if resp, out := b.do("DELETE", "/api/v1/session", nil, "", map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site logout: %d %s", resp.StatusCode, out)
	}
	resp, _ = b.do("DELETE", "/api/v1/session", nil, "", nil)
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	b.cookie = old
	if resp, out := b.do("GET", "/api/v1/documents", nil, "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old cookie after logout: %d %s", resp.StatusCode, out)
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, 1<<20)
	u := e.member(e.office.org.ID, "tranthib", []string{storage.RoleClerk}, e.office.units["VP"].ID)
	e.setPassword(u.user.ID)
	b := &browser{t: t, base: e.url, client: http.DefaultClient}
	for i := 1; i < accounts.MaxLoginFailures; i++ {
		if resp, out := b.login("tranthib", "sai-mat-khau", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, resp.StatusCode, out)
		}
	}
	for _, pw := range []string{"sai-mat-khau", testPassword} {
		resp, out := b.login("tranthib", pw, nil)
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if p := decode[problem](t, out); resp.StatusCode != http.StatusTooManyRequests || p.Type != "/problems/locked-out" ||
			retry < 60 || retry > int(accounts.LoginLockout.Seconds()) || b.cookie != nil {
			t.Fatalf("locked, password %q: %d Retry-After %q %s", pw, resp.StatusCode, resp.Header.Get("Retry-After"), out)
		}
	}
}

// The session cookie is Secure when the request came over TLS, or always
// with SecureCookies (behind a proxy that terminates TLS).
func TestSecureCookie(t *testing.T) {
	e := newEnv(t, 1<<20)
	u := e.member(e.office.org.ID, "lethic", []string{storage.RoleDrafter}, e.office.units["VP"].ID)
	e.setPassword(u.user.ID)
	for _, tc := range []struct {
		name   string
		tls    bool
		secure bool
	}{{"TLS", true, false}, {"--secure-cookies", false, true}} {
		h := (&web.Server{DB: e.db, Blobs: e.blobs, Accounts: e.accounts, SecureCookies: tc.secure}).Handler()
		srv := httptest.NewUnstartedServer(h)
		if tc.tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		b := &browser{t: t, base: srv.URL, client: srv.Client()}
		if resp, out := b.login("lethic", testPassword, nil); resp.StatusCode != http.StatusOK || b.cookie == nil || !b.cookie.Secure || !b.cookie.HttpOnly {
			t.Errorf("%s: %d %s, cookie %+v", tc.name, resp.StatusCode, out, b.cookie)
		}
		srv.Close()
	}
}

// Password hashes are bounded: with every slot and queue place taken a
// login is answered 503 with Retry-After at once, without counting against
// the username; under a burst no more hashes run than there are slots.
// Before, every login hashed at once: 100 concurrent logins took 6.4 GB.
func TestLoginHashingIsBounded(t *testing.T) {
	e := newEnv(t, 1<<20)
	slots := accounts.NewHashSlots(2, 2)
	e.accounts.Hashing = slots
	u := e.member(e.office.org.ID, "tranthib", []string{storage.RoleClerk}, e.office.units["VP"].ID)
	e.setPassword(u.user.ID)
	b := &browser{t: t, base: e.url, client: http.DefaultClient}

	var held []func()
	for range 4 {
		leave, err := slots.Enter()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, leave)
	}
	resp, out := b.login("tranthib", testPassword, nil)
	if p := decode[problem](t, out); resp.StatusCode != http.StatusServiceUnavailable || p.Type != "/problems/busy" ||
		resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Content-Type") != "application/problem+json" || b.cookie != nil {
		t.Fatalf("login with every hash slot taken: %d %v %s", resp.StatusCode, resp.Header, out)
	}
	for _, leave := range held {
		leave()
	}
	if resp, out := b.login("tranthib", testPassword, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("login once slots are free: %d %s", resp.StatusCode, out)
	}

	// A burst of 20 logins of unknown users.
	statuses := make([]int, 20)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.NewReader(`{"username":"khong-co-` + strconv.Itoa(i) + `","password":"sai mật khẩu"}`)
			resp, err := http.Post(e.url+"/api/v1/session", "application/json", body)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		}()
	}
	wg.Wait()
	checked := 0
	for _, s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			checked++
		case http.StatusServiceUnavailable:
		default:
			t.Fatalf("burst: status %d in %v", s, statuses)
		}
	}
	st := slots.Stats()
	if st.MaxRunning > 2 || st.MaxAdmitted > 4 {
		t.Fatalf("hash slots exceeded: %+v", st)
	}
	var failures int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'login.failure'").Scan(&failures); err != nil {
		t.Fatal(err)
	}
	if failures != checked {
		t.Fatalf("%d logins answered 401 but %d failures recorded (busy ones must not count)", checked, failures)
	}
}
