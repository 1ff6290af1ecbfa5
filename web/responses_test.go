package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
)

// Downloads are never sniffed as another type, are private to the caller
// and, for a confidential document, kept by no cache; HEAD answers like
// GET without the bytes. Before: no nosniff, a year's caching for
// confidential documents too, and HEAD answered 405.
func TestDownloadHeadersAndHead(t *testing.T) {
	e := newEnv(t, 1<<20)
	pdf := testpdf.Bytes(testpdf.Options{Text: "tải về"})
	plain := e.uploadPDF("Thông báo thường", pdf)
	resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định mật"}, {name: "confidentiality", value: "mat"},
		{name: "file", fileName: "mat.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "mật"}))}}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("confidential upload: %d %s", resp.StatusCode, b)
	}
	secret := decode[storage.Document](t, b)

	for _, tc := range []struct {
		doc   storage.Document
		cache string
	}{
		{plain, "private, max-age=31536000, immutable"},
		{secret, "private, no-store"},
	} {
		path := "/api/v1/documents/" + tc.doc.ID + "/versions/1/file"
		get, body := e.do("GET", path, nil, "", nil)
		head, headBody := e.do("HEAD", path, nil, "", nil)
		for _, r := range []*http.Response{get, head} {
			if r.StatusCode != http.StatusOK || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
				r.Header.Get("Cache-Control") != tc.cache || r.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("%s %s: %d %v", r.Request.Method, tc.doc.Subject, r.StatusCode, r.Header)
			}
		}
		if len(headBody) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(body)) || head.Header.Get("ETag") != get.Header.Get("ETag") {
			t.Fatalf("HEAD %s: %d bytes, Content-Length %s, ETag %s (GET: %d bytes, %s)", tc.doc.Subject, len(headBody),
				head.Header.Get("Content-Length"), head.Header.Get("ETag"), len(body), get.Header.Get("ETag"))
		}
	}
}

// An Idempotency-Key replayed with the same file answers the first
// document; reused with another file it is refused (422) and nothing is
// stored. Before, the other file was answered with the first document.
func TestIdempotencyKeyReusedForAnotherFile(t *testing.T) {
	e := newEnv(t, 1<<20)
	key := map[string]string{"Idempotency-Key": "tai-lai-1"}
	fields := func(pdf []byte) []part {
		return []part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định"}, {name: "file", fileName: "qd.pdf", value: string(pdf)}}
	}
	first := testpdf.Bytes(testpdf.Options{Text: "bản đầu"})
	resp, b := e.upload(fields(first), key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	doc := decode[storage.Document](t, b)
	if resp, b := e.upload(fields(first), key); resp.StatusCode != http.StatusCreated || decode[storage.Document](t, b).ID != doc.ID {
		t.Fatalf("replay with the same file: %d %s", resp.StatusCode, b)
	}
	rows, blobs := e.stored()
	resp, b = e.upload(fields(testpdf.Bytes(testpdf.Options{Text: "bản khác"})), key)
	if p := decode[problem](t, b); resp.StatusCode != http.StatusUnprocessableEntity || p.Type != "/problems/idempotency-key-reused" {
		t.Fatalf("key reused for another file: %d %s", resp.StatusCode, b)
	}
	// The same through POST /verify?store=true, which shares the keys.
	body, ct := multipartBody(fields(testpdf.Bytes(testpdf.Options{Text: "bản thứ ba"})))
	resp, b = e.do("POST", "/api/v1/verify?store=true", body, ct, key)
	if p := decode[problem](t, b); resp.StatusCode != http.StatusUnprocessableEntity || p.Type != "/problems/idempotency-key-reused" {
		t.Fatalf("key reused for another file through verify: %d %s", resp.StatusCode, b)
	}
	if r2, b2 := e.stored(); r2 != rows || b2 != blobs {
		t.Fatalf("the refused replay stored something: rows %d→%d, blobs %d→%d", rows, r2, blobs, b2)
	}
}

// The Bearer scheme is case-insensitive (RFC 9110 §11.1).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t, 1<<20)
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer " + e.token, http.StatusOK},
		{"bearer " + e.token, http.StatusOK},
		{"BEARER  " + e.token, http.StatusOK},
		{"Basic " + e.token, http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer" + e.token, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/documents", nil)
		req.Header.Set("Authorization", tc.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %.12q…: %d, want %d", tc.header, resp.StatusCode, tc.want)
		}
	}
}

// A directory:write token does the directory's writes without also
// holding directory:read: before, each write looked its target up as a
// read first and was refused 403 for want of directory:read.
func TestDirectoryWriteTokenWithoutRead(t *testing.T) {
	e := newEnv(t, 1<<20)
	admin := e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin}, e.office.units["VP"].ID)
	clerk := e.member(e.office.org.ID, "vanthu1", []string{storage.RoleClerk}, e.office.units["VP"].ID)
	e.token = e.issueToken(admin.user.ID, "directory:write")
	org := e.office.org.ID
	for _, tc := range []struct {
		method, path string
		body         string
		want         int
	}{
		{"POST", "/api/v1/organizations/" + org + "/units", `{"code":"TC","name":"Tổ chức"}`, http.StatusCreated},
		{"POST", "/api/v1/users", `{"username":"moi1","full_name":"Người mới","roles":["drafter"]}`, http.StatusCreated},
		{"POST", "/api/v1/users/" + clerk.user.ID + "/tokens", `{"name":"máy trạm","scopes":["directory:write"]}`, http.StatusCreated},
		{"GET", "/api/v1/users/" + clerk.user.ID + "/tokens", ``, http.StatusOK},
		{"POST", "/api/v1/users/" + clerk.user.ID + "/disable", ``, http.StatusOK},
		{"POST", "/api/v1/users/" + clerk.user.ID + "/enable", ``, http.StatusOK},
		// Reads still need directory:read.
		{"GET", "/api/v1/users/" + clerk.user.ID, ``, http.StatusForbidden},
		{"GET", "/api/v1/organizations/" + org + "/units", ``, http.StatusForbidden},
	} {
		var body *bytes.Reader
		ct := ""
		if tc.body != "" {
			body, ct = bytes.NewReader([]byte(tc.body)), "application/json"
		} else {
			body = bytes.NewReader(nil)
		}
		if resp, b := e.do(tc.method, tc.path, body, ct, nil); resp.StatusCode != tc.want {
			t.Errorf("%s %s with a directory:write token: %d %s, want %d", tc.method, tc.path, resp.StatusCode, b, tc.want)
		}
	}
}

// An administrator mints a documents:read token for an auditor, who reads
// a confidential document with it: the audit entry names the auditor, the
// token, and the administrator who minted it. A session's entries name
// the session. Before, the entry named the auditor only.
func TestAuditNamesCredentialAndMinter(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định mật"}, {name: "confidentiality", value: "mat"},
		{name: "file", fileName: "mat.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "mật"}))}}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	doc := decode[storage.Document](t, b)
	admin := e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin}, e.office.units["VP"].ID)
	auditor := e.member(e.office.org.ID, "thanhtra", []string{storage.RoleAuditor}, e.office.units["VP"].ID)
	e.token = admin.token
	resp, b = e.do("POST", "/api/v1/users/"+auditor.user.ID+"/tokens", bytes.NewReader([]byte(`{"name":"kiểm tra","scopes":["documents:read"]}`)), "application/json", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("mint: %d %s", resp.StatusCode, b)
	}
	minted := decode[struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}](t, b)
	e.token = minted.Token
	if resp, b := e.do("GET", "/api/v1/documents/"+doc.ID+"/versions/1/file", nil, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("auditor's read: %d %s", resp.StatusCode, b)
	}
	entries, err := audit.Entries(ctx, e.db.Pool, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Action != "document.read_confidential" || last.Actor != auditor.user.ID || last.Credential != "token:"+minted.ID ||
		last.MintedBy != admin.user.ID || last.MintedByName != "quantri" {
		t.Fatalf("the auditor's read is recorded as %+v", last)
	}

	// A browser session of the auditor: its entries name the session.
	e.setPassword(auditor.user.ID)
	br := &browser{t: t, base: e.url, client: http.DefaultClient}
	if resp, out := br.login("thanhtra", testPassword, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, out)
	}
	if resp, out := br.do("GET", "/api/v1/documents/"+doc.ID+"/versions/1/file", nil, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("read in a session: %d %s", resp.StatusCode, out)
	}
	entries, err = audit.Entries(ctx, e.db.Pool, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	login, read := entries[len(entries)-2], entries[len(entries)-1]
	var sessionID string
	if err := e.db.Pool.QueryRow(ctx, "SELECT id FROM sessions WHERE user_id = $1", auditor.user.ID).Scan(&sessionID); err != nil {
		t.Fatal(err)
	}
	if login.Action != "login.success" || login.Credential != "session:"+sessionID || read.Credential != "session:"+sessionID ||
		read.MintedBy != "" || read.MintedByName != "" {
		t.Fatalf("session entries: %+v %+v", login, read)
	}
	if r, err := audit.Verify(ctx, e.db.Pool); err != nil || r.Break != nil {
		t.Fatalf("chain: %+v %v", r, err)
	}
}
