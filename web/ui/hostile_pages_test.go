package ui_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// The pages' side of the hostile-input sweep (web/hostile_test.go is the
// API's): every page route the router has, found by walking it, is sent
// odd ids, odd query parameters and odd or missing form fields by people of
// every role, and cross-site posts. The answer is a page in the reader's
// language, never a 5xx, never a Go error's text.

// pageLeaks are texts of Go errors and internals no page may show.
var pageLeaks = []string{"pgx", "sql:", "SQLSTATE", "runtime error", "goroutine", "panic", ".go:", "strconv.", "invalid UUID",
	"json: ", "multipart: ", "http: ", "unexpected EOF", "no rows in result set", "context canceled", "ERROR:", "%!", "<nil>",
	"x509:", "invalid memory address", "mime: "}

var pageBadIDs = []struct{ name, value string }{
	{"not a UUID", "khong-phai-uuid"},
	{"too long", strings.Repeat("a", 4000)},
	{"NUL", "%00"},
	{"unicode", "%E1%BB%87%E2%80%AE"},
	{"not UTF-8", "%FF%FE"},
	{"negative", "-1"},
	{"huge number", "99999999999999999999"},
	{"unknown UUID", "6f1c1f4e-0000-4000-8000-000000000000"},
}

var pageBadQueries = []string{
	"limit=-1", "limit=1e9", "year=99999", "year=-1", "year=abc", "cursor=garbage", "cursor=%00", "status=unknown",
	"format=exe", "from=2026-13-45", "to=garbage", "after=-3", "q=%FF%FE", "q=" + strings.Repeat("x", 20000),
	"unit=%00", "lang=xx", "next=//evil.example", "back=javascript:alert(1)", "page=-1", "n=abc",
	"status=open&status=closed", "year=2026&year=1800", "%zz=1", "tab=%00",
}

// pageForms are the bodies a POST route is sent, each as a form.
var pageForms = []string{
	"", "a=1", "%zz", "id=%00&name=%FF&code=" + strings.Repeat("x", 5000),
	"year=99999&date=2026-02-30&number=-1&limit=1e9&due=yesterday", "lang=xx&back=//evil.example",
	"reason=&comment=%00&stage=-1&s0_name=&s0_participants=khong-uuid",
	"roles=khong-co&unit_ids=%00&user_id=khong-uuid&to_user=-1", "file=x&version=abc&n=0",
}

// TestHostilePageSweep walks every page route as a person of each role and
// sends odd ids, parameters and forms: never a 5xx; every refusal is an
// HTML page that says why (role="alert"), in the person's language, with
// no Go error text; a cross-site post is refused.
func TestHostilePageSweep(t *testing.T) {
	e := newEnv(t)
	doc := e.seedDocuments(t, 1)
	type person struct {
		username, lang string
		c              *http.Client
	}
	var people []person
	for _, role := range storage.AllRoles {
		name := "nguoi-" + role
		e.user(name, "Người "+role, role)
		people = append(people, person{username: name, lang: "vi"})
	}
	people = append(people, person{username: "quantri", lang: "en"})
	for i := range people {
		p := &people[i]
		p.c = e.client()
		e.login(p.c, p.username)
		if p.lang == "en" {
			if resp := e.post(p.c, "/language", "lang=en&back=/", nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("switching %s to English: %d", p.username, resp.StatusCode)
			}
		}
	}

	routes := pageRoutes(t, *e.handler.Load())
	sort.Strings(routes)
	fill := func(pattern string, bad map[string]string) string {
		var out []string
		for _, seg := range strings.Split(pattern, "/") {
			if v, ok := bad[seg]; ok {
				out = append(out, v)
				continue
			}
			switch seg {
			case "{id}":
				seg = doc
			case "{n}":
				seg = "1"
			case "{token}", "{code}":
				seg = "ABCDEFGH"
			case "*":
				seg = "app.css"
			}
			out = append(out, seg)
		}
		return strings.Join(out, "/")
	}
	type probe struct{ name, method, path, form string }
	var probes []probe
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		if pattern == "/logout" || pattern == "/language" {
			continue // they end or change the session the sweep goes on with
		}
		good := fill(pattern, nil)
		var params []string
		for _, seg := range strings.Split(pattern, "/") {
			if strings.HasPrefix(seg, "{") || seg == "*" {
				params = append(params, seg)
			}
		}
		paths := []string{good}
		for _, q := range pageBadQueries {
			paths = append(paths, good+"?"+q)
		}
		for _, p := range params {
			for _, id := range pageBadIDs {
				paths = append(paths, fill(pattern, map[string]string{p: id.value}))
			}
		}
		for _, path := range paths {
			switch method {
			case "GET":
				probes = append(probes, probe{rt, "GET", path, ""})
			case "POST":
				if path == good {
					for _, f := range pageForms {
						probes = append(probes, probe{rt, "POST", path, f})
					}
				} else {
					probes = append(probes, probe{rt, "POST", path, "a=1"})
				}
			}
		}
	}

	statuses := map[int]int{}
	requests := 0
	check := func(who person, pr probe, resp *http.Response, body string) {
		requests++
		statuses[resp.StatusCode]++
		where := fmt.Sprintf("%s %.120s as %s (%s), form %.60q", pr.method, pr.path, who.username, who.lang, pr.form)
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d %.300s", where, resp.StatusCode, body)
		}
		for _, leak := range pageLeaks {
			if i := strings.Index(body, leak); i >= 0 {
				t.Errorf("%s: %d page shows %q: …%.200s…", where, resp.StatusCode, leak, body[max(0, i-100):])
			}
		}
		if resp.StatusCode < 400 || pr.name == "GET /static/*" {
			return
		}
		if pr.name == "GET /c/{token}/{n}" {
			// A citizen's file, or the refusal as a problem (the page of
			// the link, /c/{token}, has the buttons that lead here).
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: %d answered as %q", where, resp.StatusCode, ct)
			}
			return
		}
		ct := resp.Header.Get("Content-Type")
		switch {
		case !strings.HasPrefix(ct, "text/html"):
			t.Errorf("%s: %d answered as %q, not a page: %.200s", where, resp.StatusCode, ct, body)
		case !strings.Contains(body, `role="alert"`):
			t.Errorf("%s: %d page says nothing of why: %.300s", where, resp.StatusCode, body)
		case !strings.Contains(body, `lang="`+who.lang+`"`):
			t.Errorf("%s: %d page is not in %s", where, resp.StatusCode, who.lang)
		}
	}
	do := func(c *http.Client, method, path, form, contentType string, hdr map[string]string) (*http.Response, string) {
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader(form)
		}
		req, err := http.NewRequest(method, e.url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8") // as a browser asks
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %.100s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// alive tells whether who is still signed in, signing them in again if
	// not, so that one route's ending a session is told and the sweep
	// goes on as the person.
	alive := func(who person, after string) {
		if resp, _ := do(who.c, "GET", "/", "", "", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s's session ended during %s: home %d", who.username, after, resp.StatusCode)
			e.login(who.c, who.username)
		}
	}
	for _, who := range people {
		last := ""
		for _, pr := range probes {
			if pr.name != last && last != "" {
				alive(who, last)
			}
			last = pr.name
			ct := ""
			if pr.method == "POST" {
				ct = "application/x-www-form-urlencoded"
			}
			resp, body := do(who.c, pr.method, pr.path, pr.form, ct, nil)
			check(who, pr, resp, body)
		}
	}
	// Bodies that are no form, and posts from another site, as the
	// administrator (who may post the most).
	admin := people[len(people)-2]
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		if method != "POST" {
			continue
		}
		if pattern == "/logout" || pattern == "/language" {
			continue
		}
		path := fill(pattern, nil)
		for _, b := range []struct{ name, body, contentType string }{
			{"multipart without boundary", "a=1", "multipart/form-data"},
			{"multipart cut short", "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7", "multipart/form-data; boundary=x"},
			{"JSON", `{"a":1}`, "application/json"},
			{"huge form", "a=" + strings.Repeat("x", 3<<20), "application/x-www-form-urlencoded"},
			{"bad media type", "a=1", "text/plain; ;=\xff"},
		} {
			resp, body := do(admin.c, "POST", path, b.body, b.contentType, nil)
			check(admin, probe{rt, "POST", path, b.name}, resp, body)
		}
		if pattern == "/login" || pattern == "/check" {
			continue // the login's own checks (TestSecurityHeadersAndCrossOrigin); the public check needs no session
		}
		alive(admin, rt+" with bodies that are no form")
		resp, body := do(admin.c, "POST", path, "a=1", "application/x-www-form-urlencoded", cross)
		check(admin, probe{rt, "POST", path, "cross-site"}, resp, body)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	// The people are still signed in: nothing of the sweep ended a session.
	for _, who := range people {
		if resp, _ := get(t, who.c, e.url+"/"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s after the sweep: home %d", who.username, resp.StatusCode)
		}
	}
	t.Logf("%d page routes, %d people, %d requests; statuses %v", len(routes), len(people), requests, statuses)
}
