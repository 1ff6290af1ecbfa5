package ui_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// postFile posts a multipart form whose last part is the file (none when
// file is nil).
func postFile(t *testing.T, c *http.Client, url string, fields map[string]string, file []byte) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "tep.pdf")
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestDeskPagesRefuseWhatTheRoleMayNot: the desk's pages are the desk
// officer's and the certifier's: a drafter is refused them, the desk
// officer may not certify, the certifier may not upload a scan, and
// another organisation's staff do not find the request; nothing changes.
func TestDeskPagesRefuseWhatTheRoleMayNot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	desk := e.user("motcua", "Trần Văn Cửa", storage.RoleDesk)
	e.user("chungthuc", "Đỗ Văn Thực", storage.RoleCertifier)
	svc := &certify.Service{DB: e.db, Docs: e.docs, Accounts: e.accounts}
	c, err := svc.Open(ctx, accounts.Principal{User: desk}, certify.NewRequest{RequesterName: "Nguyễn Thị Hồng", RequesterIDNumber: "001190012345",
		OriginalName: "Bằng tốt nghiệp", PageCount: 1, Copies: 1})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: "UBNDXBC", Name: "Ủy ban nhân dân xã Bình Châu"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: "motcua-bc", FullName: "Lê Thị Cửa", OrganizationID: other.ID, Roles: []string{storage.RoleDesk}})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := testPasswordHash()
	if err := storage.SetPassword(ctx, e.db.Pool, u.ID, hash); err != nil {
		t.Fatal(err)
	}
	e.users["motcua-bc"] = u

	drafter := e.client()
	e.login(drafter, "chuyenvien")
	for _, path := range []string{"/certifications", "/certifications/new", "/certifications/" + c.ID} {
		if resp, _ := get(t, drafter, e.url+path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a drafter's GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	deskC := e.client()
	e.login(deskC, "motcua")
	if resp := e.post(deskC, "/certifications/"+c.ID+"/certify", "", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the desk officer certifies: %d, want 403", resp.StatusCode)
	}
	if resp := e.post(deskC, "/certifications/"+c.ID+"/refuse", "reasons=nonsense", nil); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown ground: %d, want 422", resp.StatusCode)
	}
	if resp := e.post(deskC, "/certifications/new", "requester_name=A&requester_id_number=1&original_name=B&page_count=x&copies=1", nil); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a page count that is no number: %d, want 422", resp.StatusCode)
	}
	certC := e.client()
	e.login(certC, "chungthuc")
	if resp, body := postFile(t, certC, e.url+"/certifications/"+c.ID+"/scan", nil, []byte("%PDF-1.7")); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, "<h1>") {
		t.Errorf("the certifier uploads a scan: %d, want a 403 page", resp.StatusCode)
	}
	if resp, _ := get(t, certC, e.url+"/certifications/new"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the certifier opens the new-request form: %d, want 403", resp.StatusCode)
	}
	otherC := e.client()
	e.login(otherC, "motcua-bc")
	if resp, _ := get(t, otherC, e.url+"/certifications/"+c.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another commune's desk opens the request: %d, want 404", resp.StatusCode)
	}
	if resp := e.post(otherC, "/certifications/"+c.ID+"/refuse", "reasons=altered", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another commune's desk refuses the request: %d, want 404", resp.StatusCode)
	}
	got, err := storage.GetCertification(ctx, e.db.Pool, c.ID, false)
	if err != nil || got.Status != storage.CertificationReceived {
		t.Fatalf("after refused attempts the request is %q (%v)", got.Status, err)
	}
}

// TestPublicPagesAnswerAndLimit: the public page answers an unknown file
// as not found, in the pages' layout and CSP; a bad code and a missing
// file are readable 422 pages; past the address's limit, a 429 page with
// Retry-After. The QR landing page answers browsers with the page and
// other clients with JSON; an unknown citizen's link is a 404 page for a
// browser and the API's 404 for others.
func TestPublicPagesAnswerAndLimit(t *testing.T) {
	e := newEnv(t)
	e.configure(func(s *web.Server) { s.PublicVerifyLimit = publicverify.Limit{Requests: 3, Window: time.Hour} })
	c := e.client()
	pdf := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "not recorded"})
	resp, body := postFile(t, c, e.url+"/check", nil, pdf)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-found="false"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("an unknown file: %d %s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	if resp, _ := get(t, c, e.url+"/check?code=%3Cnot-a-code%3E"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a malformed code: %d", resp.StatusCode)
	}
	if resp, body := postFile(t, c, e.url+"/check", map[string]string{"x": "y"}, nil); resp.StatusCode == http.StatusOK || resp.StatusCode >= 500 || !strings.Contains(body, "<h1>") {
		t.Errorf("no file: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", e.url+"/v/"+publicverify.NewCode(), nil)
	req.Header.Set("Accept", "text/html")
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK || !strings.Contains(string(b), `data-found="false"`) || !strings.Contains(string(b), `rel="stylesheet"`) {
		t.Errorf("the QR landing page for a browser: %d %.300s", r2.StatusCode, b)
	}
	resp, body = postFile(t, c, e.url+"/check", nil, pdf)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("past the limit: %d %q %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	req, _ = http.NewRequest("GET", e.url+"/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if r3, err := c.Do(req); err != nil || r3.StatusCode != http.StatusNotFound || !strings.HasPrefix(r3.Header.Get("Content-Type"), "text/html") {
		t.Errorf("an unknown link in a browser: %v %v", r3.StatusCode, err)
	}
	if r4, err := http.Get(e.url + "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err != nil || r4.StatusCode != http.StatusNotFound ||
		r4.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("an unknown link for a program: %v %v", r4.StatusCode, err)
	}
}
