package ui_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/notify"
)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// pageRoutes lists the pages' routes (everything but the API and the
// health checks) as "METHOD pattern".
func pageRoutes(t *testing.T, h http.Handler) []string {
	t.Helper()
	var out []string
	err := chi.Walk(h.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(pattern, "/api/") || pattern == "/healthz" || pattern == "/readyz" {
			return nil
		}
		out = append(out, method+" "+pattern)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEveryPageNeedsALogin: walking every page route, a visitor without a
// session is sent to the login page (GET) or refused with a page (POST);
// only the login page, the language switch and static files are open, and
// the public ones whose own tests check what they show: the citizen's
// download of a certified copy (an unguessable expiring token) and the QR
// code's verification page.
func TestEveryPageNeedsALogin(t *testing.T) {
	e := newEnv(t)
	open := map[string]bool{"GET /login": true, "POST /login": true, "POST /logout": true, "POST /language": true, "GET /static/*": true,
		"GET /c/{token}": true, "GET /c/{token}/{n}": true, "GET /v/{code}": true,
		"GET /check": true, "POST /check": true}
	routes := pageRoutes(t, *e.handler.Load())
	if len(routes) < 15 {
		t.Fatalf("only %d page routes found: %v", len(routes), routes)
	}
	c := e.client()
	fill := strings.NewReplacer("{id}", "6f1c1f4e-0000-4000-8000-000000000000", "{n}", "1", "{token}", "abc")
	for _, rt := range routes {
		if open[rt] {
			continue
		}
		method, pattern, _ := strings.Cut(rt, " ")
		path := fill.Replace(pattern)
		switch method {
		case "GET":
			resp, _ := get(t, c, e.url+path)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
				t.Errorf("GET %s without a session: %d to %q, want 303 to the login page", path, resp.StatusCode, loc)
			}
		case "POST":
			resp := e.post(c, path, "", nil)
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("POST %s without a session: %d %s, want a 401 page", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		default:
			t.Errorf("unexpected page route %s", rt)
		}
	}
}

// TestPagesRefuseWhatTheRoleMayNot: the drafter sees no audit log, no
// administration, and no document of another organisation.
func TestPagesRefuseWhatTheRoleMayNot(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.login(c, "chuyenvien")
	for path, want := range map[string]int{
		"/audit": http.StatusForbidden, "/admin/users": http.StatusForbidden, "/admin/units": http.StatusForbidden,
		"/admin/keys": http.StatusForbidden, "/": http.StatusOK, "/documents": http.StatusOK, "/verify": http.StatusOK,
		"/documents/6f1c1f4e-0000-4000-8000-000000000000": http.StatusNotFound,
	} {
		resp, body := get(t, c, e.url+path)
		if resp.StatusCode != want {
			t.Errorf("drafter GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if !strings.Contains(body, "<h1>") {
			t.Errorf("drafter GET %s: not a page: %.200s", path, body)
		}
	}
	if resp := e.post(c, "/admin/users", "username=x&full_name=X", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("drafter creating a user: %d, want 403", resp.StatusCode)
	}
	// The navigation offers only what the role may use.
	_, home := get(t, c, e.url+"/")
	for _, hidden := range []string{`href="/audit"`, `href="/admin/users"`} {
		if strings.Contains(home, hidden) {
			t.Errorf("the drafter's navigation links %s", hidden)
		}
	}
}

// TestBadInputIsAReadablePage: malformed queries and forms answer 4xx
// pages that say what is wrong, never a 500.
func TestBadInputIsAReadablePage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.login(c, "kiemtra")
	for path, want := range map[string]int{
		"/documents?from=31-12-2026":         http.StatusBadRequest,
		"/documents?cursor=!!!":              http.StatusBadRequest,
		"/documents?cursor=bm90LWEtY3Vyc29y": http.StatusBadRequest,
		"/documents/not-a-uuid":              http.StatusNotFound,
		"/documents/6f1c1f4e-0000-4000-8000-000000000000/versions/x/signatures": http.StatusNotFound,
		"/audit?after=-3":         http.StatusBadRequest,
		"/audit?after=many":       http.StatusBadRequest,
		"/verify/reports/unknown": http.StatusNotFound,
		"/no/such/page":           http.StatusNotFound,
		"/registers/not-a-uuid":   http.StatusNotFound,
		"/registers/6f1c1f4e-0000-4000-8000-000000000000?year=soon":  http.StatusBadRequest,
		"/documents/6f1c1f4e-0000-4000-8000-000000000000/deliveries": http.StatusNotFound,
		"/admin/calendar?year=next":                                  http.StatusBadRequest,
	} {
		resp, body := get(t, c, e.url+path)
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `role="alert"`) {
			t.Errorf("GET %s: not an error page: %s %.300s", path, resp.Header.Get("Content-Type"), body)
		}
	}
	// A verification without a file, and one of a file that is no PDF.
	if resp := e.post(c, "/verify", "file=x", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("verify without a multipart file: %d, want 400", resp.StatusCode)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "note.txt")
	io.WriteString(fw, "this is not a PDF")
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/verify", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(string(b), `role="alert"`) {
		t.Errorf("verify a text file: %d %.300s", resp.StatusCode, b)
	}
	// The login form with a wrong password says so, in a page.
	if resp := e.post(e.client(), "/login", "username=kiemtra&password=wrong", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", resp.StatusCode)
	}
	// A redirect after login stays on this site.
	resp2 := e.post(e.client(), "/login", url.Values{"username": {"kiemtra"}, "password": {testPassword}, "next": {"//evil.example/x"}}.Encode(), nil)
	if loc := resp2.Header.Get("Location"); loc != "/" {
		t.Errorf("login with next=//evil.example: redirected to %q", loc)
	}
}

// TestSecurityHeadersAndCrossOrigin: every page sends the CSP (no inline
// scripts or styles, no framing); a form posted from another site is
// refused.
func TestSecurityHeadersAndCrossOrigin(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	resp, body := get(t, c, e.url+"/login")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
		t.Errorf("the login page has inline script or style")
	}
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	if resp := e.post(c, "/login", "username=kiemtra&password="+url.QueryEscape(testPassword), cross); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login post: %d, want 403", resp.StatusCode)
	}
	e.login(c, "quantri")
	if resp := e.post(c, "/admin/units", "code=KT&name=Kế+toán", cross); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form post: %d, want 403", resp.StatusCode)
	}
	if resp := e.post(c, "/admin/units", "code=KT&name=Kế+toán", map[string]string{"Sec-Fetch-Site": "same-origin"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("same-origin form post: %d, want 201", resp.StatusCode)
	}
}

// TestLanguageIsRemembered: Vietnamese by default; the switch before login
// is a cookie; after login it is stored with the user and follows them to
// a browser without the cookie.
func TestLanguageIsRemembered(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if _, body := get(t, c, e.url+"/login"); !strings.Contains(body, `<html lang="vi">`) || !strings.Contains(body, "Đăng nhập") {
		t.Fatalf("the login page is not Vietnamese by default: %.300s", body)
	}
	resp := e.post(c, "/language", "lang=en&back=/login", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("language switch: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := get(t, c, e.url+"/login"); !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Log in") {
		t.Fatalf("the switch to English was not kept: %.300s", body)
	}
	if resp := e.post(c, "/language", "lang=fr", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown language: %d, want 400", resp.StatusCode)
	}
	// Signed in, the choice goes to the account.
	e.login(c, "chuyenvien")
	e.post(c, "/language", "lang=en&back=/", nil)
	other := e.client()
	e.login(other, "chuyenvien")
	if _, body := get(t, other, e.url+"/"); !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Inbox") {
		t.Fatalf("a new browser of the same user is not in English: %.300s", body)
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM audit_log WHERE action = 'user.language'").Scan(&n); err != nil || n != 1 {
		t.Errorf("language changes audited: %d (%v), want 1", n, err)
	}
}

// TestInboxFirstLoadIsSmall counts the bytes of the inbox's first load
// (the page and every script and stylesheet it links): under 300 KB, and
// pdf.js is not among them (only the document page loads it).
func TestInboxFirstLoadIsSmall(t *testing.T) {
	e := newEnv(t)
	e.withNotify(notify.Config{}) // the header's bell counts too
	c := e.client()
	e.login(c, "chuyenvien")
	_, page := get(t, c, e.url+"/")
	if !strings.Contains(page, `id="bell"`) {
		t.Error("the inbox has no notifications bell")
	}
	total := len(page)
	links := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 2 {
		t.Fatalf("the inbox links %d static files: %v (run make assets first)", len(links), links)
	}
	for _, m := range links {
		u := strings.ReplaceAll(m[1], "&amp;", "&")
		if strings.Contains(u, "pdfjs") || strings.Contains(u, "chart") {
			t.Errorf("the inbox loads %s", u)
		}
		resp, body := get(t, c, e.url+u)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, Cache-Control %q", u, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		total += len(body)
	}
	t.Logf("inbox first load: %d bytes in %d requests", total, len(links)+1)
	if total > 300<<10 {
		t.Errorf("the inbox's first load is %d bytes, over 300 KB", total)
	}
}

// TestUploadWithoutScripts: the upload form posted as is (no script)
// creates the document and opens its page; a wrong field comes back as
// the form with the reason.
func TestUploadWithoutScripts(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.login(c, "chuyenvien")
	draft, err := os.ReadFile(fixture(t, "drafts/qd-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	action := "/documents/new"
	sendFile := func(typ, subject string, file []byte) (*http.Response, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("subject", subject)
		mw.WriteField("type", typ)
		mw.WriteField("urgency", "khan")
		fw, _ := mw.CreateFormFile("file", "qd.pdf")
		fw.Write(file)
		mw.Close()
		req, _ := http.NewRequest("POST", e.url+action, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	send := func(typ string) (*http.Response, string) {
		return sendFile(typ, "Quyết định không dùng script", draft)
	}
	resp, page := send("XYZ")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, `id="upload-form"`) {
		t.Errorf("unknown type: %d, want the form again with the reason: %.300s", resp.StatusCode, page)
	}
	// The office walk: a refused upload lost what was typed, and a
	// missing subject read as English. The form comes back as it was
	// filled, the refusal in Vietnamese linked to its field.
	if !strings.Contains(page, `>Quyết định không dùng script</textarea>`) || !strings.Contains(page, `<option value="khan" selected>`) {
		t.Errorf("the refused form lost the subject or the urgency typed: %.2000s", page)
	}
	mustContain(t, "the unknown type's summary", page, `<a href="#type">Loại văn bản</a>: <span id="error-reason">Loại văn bản &#34;XYZ&#34; không có trong danh mục của Nghị định 30`)
	resp, page = sendFile("QĐ", "Quyết định không dùng script", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an empty file: %d", resp.StatusCode)
	}
	mustContain(t, "the empty file's form", page, `<a href="#file">Tệp PDF</a>: <span id="error-reason">Tệp rỗng`, `<option value="QĐ" selected>`,
		`<option value="khan" selected>`, `>Quyết định không dùng script</textarea>`)
	resp, page = sendFile("QĐ", "  ", draft)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "chi tiết kỹ thuật") {
		t.Errorf("an empty subject: %d %.1500s", resp.StatusCode, page)
	}
	mustContain(t, "the empty subject's summary", page, `<a href="#subject">Trích yếu</a>: <span id="error-reason">Hãy nhập trích yếu của văn bản.`, `<option value="QĐ" selected>`)
	var stored int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM documents").Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("%d documents after refused uploads (%v)", stored, err)
	}
	// The page's form names its upload with a key of its own: posted twice
	// (a double click, back and re-post) it makes one document.
	_, form := get(t, c, e.url+"/documents/new")
	m := regexp.MustCompile(`action="(/documents/new\?key=[0-9a-f-]{36})"`).FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("the upload form names no key: %.1500s", form)
	}
	action = m[1]
	resp, _ = send("QĐ")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/documents/") {
		t.Fatalf("upload: %d to %q", resp.StatusCode, loc)
	}
	resp, _ = send("QĐ")
	if again := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || again != loc {
		t.Errorf("the form posted again: %d to %q, want the first document %q", resp.StatusCode, again, loc)
	}
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM documents").Scan(&stored); err != nil || stored != 1 {
		t.Errorf("%d documents after the form was posted twice (%v)", stored, err)
	}
	// Back to the sent form and another file chosen: the key made a
	// document already, and the page says so in the reader's words.
	other := append(append([]byte{}, draft...), "\n% another file\n"...)
	resp, page = sendFile("QĐ", "Quyết định không dùng script", other)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the sent form with another file: %d", resp.StatusCode)
	}
	mustContain(t, "the sent form with another file", page, "Biểu mẫu này đã được gửi và đã tạo một văn bản với tệp khác")
	var urgency string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT urgency FROM documents WHERE id = $1", strings.TrimPrefix(loc, "/documents/")).Scan(&urgency); err != nil || urgency != "khan" {
		t.Errorf("stored urgency %q (%v)", urgency, err)
	}
	if _, page := get(t, c, e.url+loc); !strings.Contains(page, "Quyết định không dùng script") || !strings.Contains(page, "Khẩn") {
		t.Errorf("the document page: %.500s", page)
	}
}
