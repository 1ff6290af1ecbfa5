package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage/blob"
)

// The hostile-input sweep: every API route the router has (found by
// walking it, so a route added later is swept too) is sent bad input by a
// caller it would serve, and must answer with a problem the client can act
// on, never a 5xx, never internals, and never a write.

// leaks are texts of internals no answer may carry: driver and SQL
// errors, panics and stacks.
var leaks = []string{"pgx", "sql:", "SQLSTATE", "runtime error", "goroutine", "panic", ".go:", "pq:", "x509:", "invalid memory address"}

// goTypeName matches a Go type name such as web.createUser or
// *storage.Document; a problem's words are for people, not for Go.
var goTypeName = regexp.MustCompile(`\*?\b(web|ui|storage|documents|accounts|chain|handling|copies|register|docsign|signing|verify|notify|audit|calendar|reception|time|json|big|netip)\.[A-Za-z_]+\b`)

// hostile is one bad request derived from a route's good one.
type hostile struct {
	name        string
	method      string
	path        string // with the query
	body        []byte
	contentType string
	header      map[string]string
}

// badIDs replace one path parameter at a time.
var badIDs = []struct{ name, value string }{
	{"not a UUID", "khong-phai-uuid"},
	{"too long", strings.Repeat("a", 4000)},
	{"NUL", "%00"},
	{"NUL in a UUID", "00000000-0000-0000-0000-0000000000%00"},
	{"unicode", "%E1%BB%87%E2%80%AE"},
	{"not UTF-8", "%FF%FE"},
	{"negative", "-1"},
	{"huge number", "99999999999999999999"},
	{"year 99999", "99999"},
	{"exponent", "1e9"},
	{"dot dot", ".."},
}

// badQueries are appended to a route's good path.
var badQueries = []string{
	"limit=-1", "limit=1e9", "limit=abc", "limit=99999999999999999999", "offset=-5",
	"year=99999", "year=-1", "year=abc", "cursor=garbage", "cursor=%00", "cursor=" + strings.Repeat("QUFB", 3000),
	"status=unknown", "status=%00", "format=exe", "format=%FF", "from=2026-13-45", "to=garbage", "since=yesterday",
	"q=%FF%FE", "q=" + strings.Repeat("x", 20000), "unit=%00", "organization_id=khong-uuid", "organization_id=%00",
	"limit=1&limit=2", "status=open&status=closed", "type=%E2%80%AE", "store=maybe", "page=-3", "per_page=1e9",
	"%zz=1", "a=%zz",
}

// badHeaders are set on a route's good request.
var badHeaders = []struct {
	name string
	hdr  map[string]string
}{
	{"Idempotency-Key too long", map[string]string{"Idempotency-Key": strings.Repeat("k", 5000)}},
	{"Idempotency-Key with a tab", map[string]string{"Idempotency-Key": "khoa\tmot"}},
	{"Idempotency-Key not UTF-8", map[string]string{"Idempotency-Key": "\xff\xfe\x80"}},
	{"Idempotency-Key empty-ish", map[string]string{"Idempotency-Key": " "}},
	{"If-None-Match garbage", map[string]string{"If-None-Match": "\"\xff\", W/"}},
	{"Range garbage", map[string]string{"Range": "bytes=-99999999999999999999-"}},
}

// jsonMutations are the wrong-typed values put in place of one field.
var jsonMutations = []struct {
	name  string
	value any
}{
	{"string", "không phải số"},
	{"number", 1e300},
	{"object", map[string]any{"x": 1}},
	{"array", []any{1, "a", nil}},
	{"null", nil},
	{"bool", true},
	{"NUL string", "a\x00b"},
	{"negative", -1},
}

// variants derives the hostile requests of one route from its good one.
func variants(method, pattern string, good request, goodBody []byte) []hostile {
	var out []hostile
	add := func(h hostile) {
		if h.method == "" {
			h.method = method
		}
		if h.path == "" {
			h.path = good.path
		}
		out = append(out, h)
	}
	hasBody := method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE"
	if hasBody {
		add(hostile{name: "malformed JSON", body: []byte(`{"a": 1,`), contentType: "application/json"})
		add(hostile{name: "JSON with a bare word", body: []byte(`{nope}`), contentType: "application/json"})
		add(hostile{name: "JSON null", body: []byte(`null`), contentType: "application/json"})
		add(hostile{name: "JSON array", body: []byte(`[1,2,3]`), contentType: "application/json"})
		add(hostile{name: "JSON string", body: []byte(`"x"`), contentType: "application/json"})
		add(hostile{name: "JSON number", body: []byte(`1e999`), contentType: "application/json"})
		add(hostile{name: "two JSON values", body: []byte(`{} {}`), contentType: "application/json"})
		add(hostile{name: "deep JSON", body: []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)), contentType: "application/json"})
		add(hostile{name: "unknown field", body: []byte(`{"khong_co_truong_nay": 1}`), contentType: "application/json"})
		add(hostile{name: "empty body JSON", body: nil, contentType: "application/json"})
		add(hostile{name: "empty body no type", body: nil})
		add(hostile{name: "huge body", body: bytes.Repeat([]byte(" "), 3<<20), contentType: "application/json"})
		add(hostile{name: "huge multipart", body: append([]byte("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"),
			bytes.Repeat([]byte("A"), 3<<20)...), contentType: "multipart/form-data; boundary=x"})
		add(hostile{name: "text/plain", body: goodBody, contentType: "text/plain"})
		add(hostile{name: "bad Content-Type", body: goodBody, contentType: "application/json; charset=\xff; ;;="})
		add(hostile{name: "multipart without boundary", body: goodBody, contentType: "multipart/form-data"})
		add(hostile{name: "multipart cut short", body: []byte("--x\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nQĐ"), contentType: "multipart/form-data; boundary=x"})
		add(hostile{name: "form", body: []byte("a=1&b=%zz"), contentType: "application/x-www-form-urlencoded"})
		add(hostile{name: "XML", body: []byte("<a/>"), contentType: "application/xml"})
		add(hostile{name: "invalid UTF-8 JSON", body: []byte("{\"name\": \"\xff\xfe\"}"), contentType: "application/json"})
		// Each field of a good JSON object, wrongly typed.
		var obj map[string]any
		if strings.HasPrefix(good.contentType, "application/json") && json.Unmarshal(goodBody, &obj) == nil {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, mu := range jsonMutations {
					changed := map[string]any{}
					for k2, v := range obj {
						changed[k2] = v
					}
					changed[k] = mu.value
					b, _ := json.Marshal(changed)
					add(hostile{name: fmt.Sprintf("field %s as %s", k, mu.name), body: b, contentType: "application/json"})
				}
			}
		}
	}
	// Bad path parameters, one at a time.
	goodPath, goodQuery, _ := strings.Cut(good.path, "?")
	pat := strings.Split(pattern, "/")
	seg := strings.Split(goodPath, "/")
	if len(pat) == len(seg) {
		for i, p := range pat {
			if !strings.HasPrefix(p, "{") {
				continue
			}
			for _, id := range badIDs {
				changed := append([]string(nil), seg...)
				changed[i] = id.value
				path := strings.Join(changed, "/")
				if goodQuery != "" {
					path += "?" + goodQuery
				}
				add(hostile{name: "path " + p + " " + id.name, path: path, body: goodBody, contentType: good.contentType})
			}
		}
	}
	for _, q := range badQueries {
		sep := "?"
		if strings.Contains(good.path, "?") {
			sep = "&"
		}
		add(hostile{name: "query " + q[:min(len(q), 40)], path: good.path + sep + q, body: goodBody, contentType: good.contentType})
	}
	if goodQuery != "" { // the route's own parameters, each sent twice with another value
		add(hostile{name: "duplicated query", path: good.path + "&" + goodQuery, body: goodBody, contentType: good.contentType})
		vals, _ := url.ParseQuery(goodQuery)
		for k := range vals {
			add(hostile{name: "query " + k + " garbage", path: good.path + "&" + k + "=%FF%00" + "&" + k + "=-1", body: goodBody, contentType: good.contentType})
		}
	}
	for _, h := range badHeaders {
		add(hostile{name: h.name, body: goodBody, contentType: good.contentType, header: h.hdr})
	}
	return out
}

// world counts what a refused request must not change: the rows of every
// table that records work (not sessions nor throttles) and the blobs.
type world struct {
	e      *env
	query  string
	tables []string
}

func newWorld(e *env) *world {
	rows, err := e.db.Pool.Query(context.Background(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('sessions', 'login_throttle', 'public_verify_throttle', 'goose_db_version') ORDER BY table_name`)
	if err != nil {
		e.t.Fatal(err)
	}
	var tables, counts []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			e.t.Fatal(err)
		}
		tables = append(tables, name)
		counts = append(counts, fmt.Sprintf("(SELECT count(*) FROM %q)", name))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return &world{e: e, tables: tables, query: "SELECT ARRAY[" + strings.Join(counts, ", ") + "]"}
}

// snapshot is "table=count ... blobs=n".
func (w *world) snapshot() map[string]int64 {
	ctx := context.Background()
	var counts []int64
	if err := w.e.db.Pool.QueryRow(ctx, w.query).Scan(&counts); err != nil {
		w.e.t.Fatal(err)
	}
	out := make(map[string]int64, len(counts)+1)
	for i, n := range counts {
		out[w.tables[i]] = n
	}
	var blobs int64
	if err := w.e.blobs.List(ctx, func(blob.Info) error { blobs++; return nil }); err != nil {
		w.e.t.Fatal(err)
	}
	out["(blobs)"] = blobs
	return out
}

func changed(before, after map[string]int64) string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, fmt.Sprintf("%s %d→%d", k, before[k], v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// sendRaw makes one hostile request; a transport error (the server closing
// a connection on a body over its limit) is returned, not fatal.
func sendRaw(base, token string, h hostile) (*http.Response, []byte, error) {
	req, err := http.NewRequest(h.method, base+h.path, bytes.NewReader(h.body))
	if err != nil {
		return nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if h.contentType != "" {
		req.Header.Set("Content-Type", h.contentType)
	}
	for k, v := range h.header {
		req.Header[k] = []string{v}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// authorisedCaller is a caller the route serves (a 2xx, or 409 for a
// target in the wrong state), with the relation to use; ok false when the
// matrix serves nobody on it.
func authorisedCaller(r route, callers []caller) (caller, string, bool) {
	for _, served := range []func(int) bool{
		func(s int) bool { return s < 300 || s == http.StatusConflict },
		// Routes whose matrix target answers 404 or 422 to everyone (a
		// session no one opened, a public link): a caller past the
		// authorization.
		func(s int) bool { return s != http.StatusUnauthorized && s != http.StatusForbidden },
	} {
		for _, rel := range []string{own, self, none} {
			if !in(rel, r.rels...) {
				continue
			}
			for _, c := range callers {
				if served(r.want(c.role, rel)) {
					return c, rel, true
				}
			}
		}
	}
	return caller{}, "", false
}

// TestHostileInputSweep: every API route × malformed, wrongly typed, empty,
// oversized and mislabelled bodies, bad path ids, out-of-range and
// duplicated query parameters and bad headers, sent by a caller the route
// serves: never a 5xx, every refusal a problem with a type, title and
// detail and no internals, and a refused request writes nothing (rows of
// every table but sessions and throttles, and the blob store's objects).
func TestHostileInputSweep(t *testing.T) {
	m, callers := newMatrix(t)
	byKey := map[string]route{}
	for _, r := range m.routes() {
		byKey[r.method+" "+r.pattern] = r
	}
	keys := registered(t, *m.e.handler.Load())
	// Logging out last: it ends nothing of a token, but keep it from
	// changing what the other routes see.
	sort.SliceStable(keys, func(i, j int) bool {
		return !strings.HasSuffix(keys[i], "/session") && strings.HasSuffix(keys[j], "/session")
	})
	w := newWorld(m.e)
	routes, requests, transport := 0, 0, 0
	statuses := map[int]int{}
	var accepted, unserved []string
	for _, key := range keys {
		r, ok := byKey[key]
		if !ok {
			t.Errorf("route %s is not in the authorization matrix (TestAuthorizationMatrix says so too)", key)
			continue
		}
		c, rel, ok := authorisedCaller(r, callers)
		if !ok {
			unserved = append(unserved, key)
			continue
		}
		routes++
		target := m.a
		good := r.req(m, c, rel, target)
		var goodBody []byte
		if good.body != nil {
			goodBody, _ = io.ReadAll(good.body)
		}
		before := w.snapshot()
		for _, h := range variants(r.method, r.pattern, good, goodBody) {
			resp, b, err := sendRaw(m.e.url, c.token, h)
			requests++
			if err != nil {
				// Only a body over the limit may end the connection.
				if !strings.HasPrefix(h.name, "huge") {
					t.Errorf("%s %s as %s: %s: %v", r.method, r.pattern, c.role, h.name, err)
				}
				transport++
				before = w.snapshot()
				continue
			}
			statuses[resp.StatusCode]++
			where := fmt.Sprintf("%s %s as %s, %s", r.method, r.pattern, c.role, h.name)
			// A redirect's body repeats its Location, whose random state,
			// nonce and PKCE challenge may spell anything ("pgx" once).
			checked := b
			if loc := resp.Header.Get("Location"); loc != "" {
				checked = bytes.ReplaceAll(checked, []byte(html.EscapeString(loc)), nil)
				checked = bytes.ReplaceAll(checked, []byte(loc), nil)
			}
			for _, leak := range leaks {
				if bytes.Contains(checked, []byte(leak)) {
					t.Errorf("%s: %d answer carries %q: %.300s", where, resp.StatusCode, leak, b)
				}
			}
			if resp.StatusCode >= 500 {
				t.Errorf("%s: %d %.300s", where, resp.StatusCode, b)
			}
			if resp.StatusCode < 400 {
				if resp.StatusCode < 300 && !strings.HasPrefix(h.name, "Idempotency") && h.name != "text/plain" && !strings.HasPrefix(h.name, "If-") && !strings.HasPrefix(h.name, "Range") {
					accepted = append(accepted, fmt.Sprintf("%s %s: %s → %d", r.method, r.pattern, h.name, resp.StatusCode))
				}
				before = w.snapshot()
				continue
			}
			if h.method == "HEAD" {
				continue
			}
			var p problem
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: %d answered as %q, not a problem: %.200s", where, resp.StatusCode, ct, b)
			} else if err := json.Unmarshal(b, &p); err != nil || p.Type == "" || p.Title == "" || p.Detail == "" {
				t.Errorf("%s: %d problem without a type, title or detail: %.300s", where, resp.StatusCode, b)
			} else if m := goTypeName.FindString(p.Title + " " + p.Detail); m != "" {
				t.Errorf("%s: %d problem names the Go type %s: %.300s", where, resp.StatusCode, m, b)
			}
			after := w.snapshot()
			if key == "POST /api/v1/session" || key == "POST /api/v1/session/password" {
				// A refused login is recorded by design (login.failure),
				// and so is a wrong current password: it counts as one.
				before["audit_log"] = after["audit_log"]
			}
			if changed(before, after) != "" {
				t.Errorf("%s: refused %d but wrote %s", where, resp.StatusCode, changed(before, after))
				before = after
			}
		}
	}
	t.Logf("routes no caller of the matrix is served on (their refusals are the matrix's): %s", strings.Join(unserved, ", "))
	t.Logf("%d routes (of %d registered), %d hostile requests (%d connections closed on an oversized body); statuses %v", routes, len(keys), requests, transport, statuses)
	t.Logf("%d hostile requests accepted (2xx), as harmless extras:\n%s", len(accepted), strings.Join(accepted, "\n"))
}

// TestHostileHeadersOnDownloadAndUpload: a Range no byte of the file
// satisfies is a problem like every refusal (before: http.ServeContent's
// plain "invalid range"); an Idempotency-Key with a control character is
// refused before any handler runs (net/http's 400), and nothing is stored.
func TestHostileHeadersOnDownloadAndUpload(t *testing.T) {
	e := newEnv(t, 1<<20)
	doc := e.uploadPDF("Tải về theo khoảng", testpdf.Bytes(testpdf.Options{Text: "range"}))
	path := "/api/v1/documents/" + doc.ID + "/versions/1/file"
	for _, rng := range []string{"bytes=99999999-", "bytes=-99999999999999999999-", "bytes=5-1"} {
		resp, b := e.do("GET", path, nil, "", map[string]string{"Range": rng})
		if resp.StatusCode >= 500 {
			t.Fatalf("Range %s: %d %s", rng, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 {
			if p := decode[problem](t, b); resp.Header.Get("Content-Type") != "application/problem+json" || p.Detail == "" ||
				resp.Header.Get("Content-Disposition") != "" {
				t.Fatalf("Range %s: %d %v %s", rng, resp.StatusCode, resp.Header, b)
			}
		}
	}
	if resp, b := e.do("GET", path, nil, "", map[string]string{"Range": "bytes=99999999-"}); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable ||
		decode[problem](t, b).Type != "/problems/range-not-satisfiable" {
		t.Fatalf("a range past the end: %d %s", resp.StatusCode, b)
	}

	rows, blobs := e.stored()
	body, ct := multipartBody([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Khóa điều khiển"},
		{name: "file", fileName: "a.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "ctl"}))}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nIdempotency-Key: k\x01\x7fy\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		e.token, ct, body.Len())
	conn.Write(body.Bytes())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("Idempotency-Key with control characters: %d", resp.StatusCode)
	}
	if r2, b2 := e.stored(); r2 != rows || b2 != blobs {
		t.Fatalf("stored rows %d→%d, blobs %d→%d", rows, r2, blobs, b2)
	}
}

// TestBodyMustBeAnObject: null, an array or a bare value is not a request
// (400 malformed-json): before, null decoded into the zero request, and
// PUT /calendar/{year} with a body of null cleared the year's holidays.
func TestBodyMustBeAnObject(t *testing.T) {
	e := newEnv(t, 1<<20)
	e.token = e.member("", "root", nil).token
	holidays := `{"holidays":[{"date":"2026-04-30","name":"30/4"}]}`
	if resp, b := e.do("PUT", "/api/v1/calendar/2026", strings.NewReader(holidays), "application/json", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("setting the holidays: %d %s", resp.StatusCode, b)
	}
	for _, body := range []string{"null", " \n null", "[]", `"x"`, "1", "true"} {
		resp, b := e.do("PUT", "/api/v1/calendar/2026", strings.NewReader(body), "application/json", nil)
		if p := decode[problem](t, b); resp.StatusCode != http.StatusBadRequest || p.Type != "/problems/malformed-json" {
			t.Errorf("body %q: %d %s, want 400 malformed-json", body, resp.StatusCode, b)
		}
	}
	resp, b := e.do("GET", "/api/v1/calendar/2026", nil, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "2026-04-30") {
		t.Fatalf("the holidays after the refused bodies: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do("PUT", "/api/v1/calendar/2026", strings.NewReader(" "+holidays), "application/json", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("an object after white space: %d %s", resp.StatusCode, b)
	}
}
