package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/storage"
)

// postMultipartImage posts the file at path as the form's "image" field.
func postMultipartImage(t *testing.T, e *env, c *http.Client, path, file string) (int, string, string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return postImageBytes(t, e, c, path, data)
}

func postImageBytes(t *testing.T, e *env, c *http.Client, path string, data []byte) (int, string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("image", "chu-ky.png")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// auditEntries counts the audit entries of action about user:id.
func auditEntries(t *testing.T, e *env, action, userID string) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = $1 AND object = $2", action, "user:"+userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAccountPasswordChange: on the account page a person changes their
// own password. Two new passwords that differ and a wrong current
// password are refused readably (the wrong one counted and audited as a
// failed login); then the change: this session goes on, the other one has
// ended, the old password no longer logs in and the new one does, one
// audit entry records it and neither password is anywhere in the
// database's audit log. Wrong current passwords lock the account like
// failed logins do; the API's route answers the same way.
func TestAccountPasswordChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	an := e.users["chuyenvien"]
	here, there := e.client(), e.client()
	e.login(here, "chuyenvien")
	e.login(there, "chuyenvien")
	const next = "mật khẩu mới rất dài 2026"

	body := pageOK(t, here, e.url+"/account")
	mustContain(t, "the account page", body, "Nguyễn Văn An", "chuyenvien", "Ủy ban nhân dân xã An Bình", "VP — Phòng VP", "Chuyên viên soạn thảo",
		"ít nhất 10 ký tự", `action="/account/password"`, `autocomplete="current-password"`)

	status, _, body := postPage(t, e, here, "/account/password", url.Values{"current_password": {testPassword}, "new_password": {next}, "new_password2": {next + "x"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "không khớp") {
		t.Fatalf("differing new passwords: %d", status)
	}
	status, _, body = postPage(t, e, here, "/account/password", url.Values{"current_password": {testPassword}, "new_password": {"ngắn"}, "new_password2": {"ngắn"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "ít nhất 10 ký tự") {
		t.Fatalf("a short new password: %d", status)
	}
	failures := auditEntries(t, e, "login.failure", an.ID)
	status, _, body = postPage(t, e, here, "/account/password", url.Values{"current_password": {"không phải mật khẩu"}, "new_password": {next}, "new_password2": {next}})
	if status != http.StatusForbidden || !strings.Contains(body, "Mật khẩu hiện tại không đúng") {
		t.Fatalf("a wrong current password: %d", status)
	}
	if n := auditEntries(t, e, "login.failure", an.ID); n != failures+1 {
		t.Fatalf("the wrong current password left %d failed logins, want %d", n, failures+1)
	}

	status, loc, _ := postPage(t, e, here, "/account/password", url.Values{"current_password": {testPassword}, "new_password": {next}, "new_password2": {next}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/account?saved=password") {
		t.Fatalf("the change: %d %s", status, loc)
	}
	mustContain(t, "this session after the change", pageOK(t, here, e.url+"/account?saved=password"), "Đã đổi mật khẩu")
	if resp, _ := get(t, there, e.url+"/account"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("the other session after the change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, _, err := e.accounts.Login(ctx, "chuyenvien", testPassword, "192.0.2.1"); err == nil {
		t.Fatal("the old password still logs in")
	}
	if _, _, err := e.accounts.Login(ctx, "chuyenvien", next, "192.0.2.1"); err != nil {
		t.Fatalf("the new password does not log in: %v", err)
	}
	if n := auditEntries(t, e, "user.password.change", an.ID); n != 1 {
		t.Fatalf("%d audit entries of the change", n)
	}
	var leaked int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE details::text LIKE '%' || $1 || '%' OR details::text LIKE '%' || $2 || '%'", next, testPassword).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("a password is in the audit log: %d %v", leaked, err)
	}

	// The API: a wrong current password is a problem with its reason;
	// counted like the page's, it locks the account at the limit.
	tok := e.token(t, "chuyenvien")
	api := func(current string) (int, map[string]any) {
		b, _ := json.Marshal(map[string]string{"current_password": current, "new_password": "một mật khẩu khác nữa"})
		req, _ := http.NewRequest("POST", e.url+"/api/v1/session/password", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p map[string]any
		json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	status, p := api("sai mật khẩu")
	if status != http.StatusForbidden || p["reason"] != "wrong-password" {
		t.Fatalf("the API's wrong password: %d %v", status, p)
	}
	for i := 2; i < accounts.MaxLoginFailures; i++ {
		if status, _ := api("sai mật khẩu"); status != http.StatusForbidden {
			t.Fatalf("wrong password %d: %d", i, status)
		}
	}
	// The last failure the limit allows locks the username.
	if status, _ := api("sai mật khẩu"); status != http.StatusTooManyRequests {
		t.Fatalf("the failure that reaches the limit: %d, want 429", status)
	}
	if status, _ := api(next); status != http.StatusTooManyRequests {
		t.Fatalf("while locked, even the right password: %d, want 429", status)
	}
	if _, _, err := e.accounts.Login(ctx, "chuyenvien", next, "192.0.2.2"); err == nil {
		t.Fatal("the login is not locked after the wrong current passwords")
	}
}

// TestAccountImageRefusals: the account page's upload refuses what
// docsign refuses, in words, and stores nothing: not a PNG, too large, no
// file; the image is then read back by its owner through GET
// /api/v1/users/{id}/signature-image (private, never cached), and not by a
// colleague.
func TestAccountImageRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	an := e.users["chuyenvien"]
	c := e.client()
	e.login(c, "chuyenvien")
	for _, tc := range []struct {
		name   string
		data   []byte
		status int
		words  string
	}{
		{"a JPEG", []byte("\xff\xd8\xff\xe0 not a png"), http.StatusUnprocessableEntity, "phải là tệp PNG"},
		{"too large", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, docsign.MaxImageBytes)...), http.StatusRequestEntityTooLarge, "quá lớn"},
		{"far too large", make([]byte, 3*docsign.MaxImageBytes), http.StatusRequestEntityTooLarge, "quá lớn"},
		{"a broken PNG", []byte("\x89PNG\r\n\x1a\nbroken"), http.StatusUnprocessableEntity, "PNG"},
	} {
		status, _, body := postImageBytes(t, e, c, "/account/signature-image", tc.data)
		if status != tc.status || !strings.Contains(body, tc.words) {
			t.Errorf("%s: %d, want %d with %q", tc.name, status, tc.status, tc.words)
		}
	}
	req, _ := http.NewRequest("POST", e.url+"/account/signature-image", strings.NewReader("image=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a form without a file: %v %v", resp.StatusCode, err)
	}
	if _, err := storage.GetSignatureImage(ctx, e.db.Pool, an.ID); err == nil {
		t.Fatal("a refused upload was stored")
	}
	if resp, _ := get(t, c, e.url+"/api/v1/users/"+an.ID+"/signature-image"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no image yet: %d", resp.StatusCode)
	}
	var img bytes.Buffer
	if err := pngEncode(&img, an.FullName); err != nil {
		t.Fatal(err)
	}
	if status, loc, _ := postImageBytes(t, e, c, "/account/signature-image", img.Bytes()); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/account?saved=image") {
		t.Fatalf("the upload: %d %s", status, loc)
	}
	resp, got := get(t, c, e.url+"/api/v1/users/"+an.ID+"/signature-image")
	if resp.StatusCode != http.StatusOK || got != img.String() || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("Cache-Control") != "private, no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("reading it back: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	colleague := e.client()
	e.login(colleague, "kiemtra")
	if resp, _ := get(t, colleague, e.url+"/api/v1/users/"+an.ID+"/signature-image"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a colleague reads the image: %d", resp.StatusCode)
	}
	if n := auditEntries(t, e, "user.signature_image", an.ID); n != 1 {
		t.Errorf("%d audit entries of the upload", n)
	}
}

func pngEncode(w io.Writer, name string) error {
	return png.Encode(w, appearance.DemoSignature(name))
}

// TestAccountTokens: the account page lists the person's own API tokens
// and revokes one; another person's token is not found there.
func TestAccountTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine := e.token(t, "chuyenvien")
	theirs := e.token(t, "kiemtra")
	c := e.client()
	e.login(c, "chuyenvien")
	p, err := e.accounts.AuthenticateToken(ctx, mine)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.accounts.AuthenticateToken(ctx, theirs)
	if err != nil {
		t.Fatal(err)
	}
	body := pageOK(t, c, e.url+"/account")
	mustContain(t, "the account page", body, `action="/account/tokens/`+p.TokenID+`/revoke"`)
	if strings.Contains(body, q.TokenID) {
		t.Fatal("the account page shows another person's token")
	}
	if status, _, _ := postPage(t, e, c, "/account/tokens/"+q.TokenID+"/revoke", nil); status != http.StatusNotFound {
		t.Fatalf("revoking another's token: %d", status)
	}
	if _, err := e.accounts.AuthenticateToken(ctx, theirs); err != nil {
		t.Fatalf("another's token was revoked: %v", err)
	}
	status, loc, _ := postPage(t, e, c, "/account/tokens/"+p.TokenID+"/revoke", nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/account?revoked=") {
		t.Fatalf("revoking one's own: %d %s", status, loc)
	}
	if _, err := e.accounts.AuthenticateToken(ctx, mine); err == nil {
		t.Fatal("the revoked token still authenticates")
	}
	mustContain(t, "the account page after revoking", pageOK(t, c, e.url+loc), "Đã thu hồi mã truy cập bench")
}
