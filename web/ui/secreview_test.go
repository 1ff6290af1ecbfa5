package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// browserTarget reads a Location header as a browser does (WHATWG URL):
// tabs and newlines anywhere are dropped and a backslash is a slash.
func browserTarget(t *testing.T, base, loc string) *url.URL {
	t.Helper()
	loc = strings.NewReplacer("\t", "", "\r", "", "\n", "", "\\", "/").Replace(loc)
	b, _ := url.Parse(base)
	u, err := b.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return u
}

// TestRedirectTargetsStayOnSite: the next= of the login page and form and
// the language switch's back= lead only to a path of this site, whatever
// spelling of another host they are given (a tab or newline that browsers
// drop, backslashes, schemes).
func TestRedirectTargetsStayOnSite(t *testing.T) {
	e := newEnv(t)
	site, _ := url.Parse(e.url)
	hostile := []string{"//evil.example/x", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
		"/\t\\evil.example", "\t//evil.example", "https://evil.example/", "javascript:alert(1)", "/\x00/evil.example", "///evil.example"}
	check := func(what, next string, resp *http.Response) {
		t.Helper()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s %q: %d, want 303", what, next, resp.StatusCode)
			return
		}
		if u := browserTarget(t, e.url, loc); u.Host != site.Host || u.Scheme != site.Scheme {
			t.Errorf("%s %q: Location %q leads a browser to %s", what, next, loc, u)
		}
	}
	for _, next := range hostile {
		c := e.client()
		resp := e.post(c, "/login", url.Values{"username": {"kiemtra"}, "password": {testPassword}, "next": {next}}.Encode(), nil)
		check("login form next", next, resp)
		// Signed in, the login page sends its visitor on at once.
		req, _ := http.NewRequest("GET", e.url+"/login?"+url.Values{"next": {next}}.Encode(), nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		check("login page next", next, resp)
		check("language back", next, e.post(c, "/language", url.Values{"lang": {"en"}, "back": {next}}.Encode(), nil))
	}
	// An ordinary path with its query comes through.
	resp := e.post(e.client(), "/login", url.Values{"username": {"kiemtra"}, "password": {testPassword}, "next": {"/documents?q=a%20b"}}.Encode(), nil)
	if loc := resp.Header.Get("Location"); loc != "/documents?q=a%20b" {
		t.Errorf("next=/documents?q=a%%20b: Location %q", loc)
	}
}

// TestLogoutEndsTheSessionOnTheServer: after the logout form, the old
// cookie's value opens nothing, even sent by a client that kept it; the
// session cookie is HttpOnly and SameSite.
func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	resp := e.post(c, "/login", "username=kiemtra&password="+url.QueryEscape(testPassword), nil)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.Name != "vanthu_lang" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("login set no session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %s: HttpOnly %v SameSite %v", session.Name, session.HttpOnly, session.SameSite)
	}
	kept := func() int {
		req, _ := http.NewRequest("GET", e.url+"/", nil)
		req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := kept(); got != http.StatusOK {
		t.Fatalf("the session before logout: %d", got)
	}
	if resp := e.post(c, "/logout", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if got := kept(); got != http.StatusSeeOther {
		t.Fatalf("the old cookie after logout: %d, want 303 to the login page", got)
	}
}

// TestPageFormsRefuseAnotherSite: every POST route of the pages, walked
// from the router, refuses a form a browser posts from another site
// (Sec-Fetch-Site cross-site, or an Origin of another host) for a
// signed-in user, before it reads the form; the session survives.
func TestPageFormsRefuseAnotherSite(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.login(c, "kiemtra")
	fill := strings.NewReplacer("{id}", "6f1c1f4e-0000-4000-8000-000000000000", "{n}", "1", "{token}", "abc", "{code}", "abc")
	posts := 0
	for _, rt := range pageRoutes(t, *e.handler.Load()) {
		method, pattern, _ := strings.Cut(rt, " ")
		if method != "POST" {
			continue
		}
		posts++
		for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
			if resp := e.post(c, fill.Replace(pattern), "lang=en", hdr); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %v: %d, want 403", pattern, hdr, resp.StatusCode)
			}
		}
	}
	if posts < 20 {
		t.Fatalf("only %d POST page routes found", posts)
	}
	// The refused logout left the session alone.
	resp, _ := get(t, c, e.url+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after refused cross-site posts: %d", resp.StatusCode)
	}
}

// TestEveryPageAnswerSendsTheCSP: every answer of the pages' router, for
// every route walked from it (with made-up IDs, so many are 404s and
// refusals), unknown paths and static files, sends the Content-Security-
// Policy without inline code, refuses framing and sniffing.
func TestEveryPageAnswerSendsTheCSP(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.login(c, "kiemtra")
	fill := strings.NewReplacer("{id}", "6f1c1f4e-0000-4000-8000-000000000000", "{n}", "1", "{token}", "abc", "{code}", "abc", "*", "css/site.css")
	reqs := [][2]string{{"GET", "/no-such-page"}, {"GET", "/c/abc?download=1"}, {"GET", "/static/no-such-file.js"}, {"POST", "/no-such-page"}}
	for _, rt := range pageRoutes(t, *e.handler.Load()) {
		method, pattern, _ := strings.Cut(rt, " ")
		reqs = append(reqs, [2]string{method, fill.Replace(pattern)})
	}
	for _, rq := range reqs {
		req, _ := http.NewRequest(rq[0], e.url+rq[1], strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		scripts := strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "script-src") // default-src 'none' covers them
		if !strings.HasPrefix(csp, "default-src 'none'") || !scripts || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-") {
			t.Errorf("%s %s (%d): CSP %q", rq[0], rq[1], resp.StatusCode, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s (%d): nosniff %q, frame options %q", rq[0], rq[1], resp.StatusCode, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
		}
	}
}
