package web_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/web"
)

// TestBadBytesAre400 sends what PostgreSQL cannot store or should not be
// asked to do: each is the client's error, answered 400 (or 404 for a
// number that names no version), never 500.
func TestBadBytesAre400(t *testing.T) {
	e := newEnv(t, 1<<20)
	pdf := testpdf.Bytes(testpdf.Options{Text: "bad bytes"})
	doc := e.uploadPDF("Công văn hợp lệ", pdf)
	up := func(typ, subject, unit string) []part {
		p := []part{{name: "type", value: typ}, {name: "subject", value: subject}}
		if unit != "" {
			p = append(p, part{name: "unit", value: unit})
		}
		return append(p, part{name: "file", fileName: "a.pdf", value: string(pdf)})
	}
	for _, tc := range []struct {
		name  string
		parts []part
		hdr   map[string]string
	}{
		{"subject not UTF-8", up("QĐ", "Công văn \xff\xfe", ""), nil},
		{"subject with NUL", up("QĐ", "Công\x00văn", ""), nil},
		{"unit not UTF-8", up("QĐ", "Công văn", "V\xc3"), nil},
		{"unit with NUL", up("QĐ", "Công văn", "VP\x00"), nil},
		{"type not UTF-8", up("Q\xff", "Công văn", ""), nil},
		{"Idempotency-Key not UTF-8", up("QĐ", "Công văn", ""), map[string]string{"Idempotency-Key": "k\xff\xfe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.upload(tc.parts, tc.hdr)
			if resp.StatusCode != http.StatusBadRequest || decode[problem](t, b).Type != "/problems/invalid-field" {
				t.Fatalf("got %d %s, want 400 invalid-field", resp.StatusCode, b)
			}
		})
	}

	cursor := func(id string) string {
		return base64.RawURLEncoding.EncodeToString([]byte("2026-01-01T00:00:00Z|" + id))
	}
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"q not UTF-8", "q=" + url.QueryEscape("quy\xffết"), 400},
		{"q with NUL", "q=" + url.QueryEscape("quyết\x00định"), 400},
		{"type not UTF-8", "type=" + url.QueryEscape("\xc3"), 400},
		{"status with NUL", "status=" + url.QueryEscape("a\x00"), 400},
		{"unit not UTF-8", "unit=" + url.QueryEscape("\xffVP"), 400},
		{"cursor with a non-UUID id", "cursor=" + cursor(strings.Repeat("x", 36)), 400},
		{"cursor with NUL", "cursor=" + url.QueryEscape("\x00"), 400},
		{"60,000 words", "q=" + url.QueryEscape(strings.Repeat("quyết ", 60000)), 400},
		{"21 words", "q=" + url.QueryEscape(strings.Repeat("a ", 21)), 400},
		{"20 words", "q=" + url.QueryEscape(strings.Repeat("a ", 20)), 200},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			resp, b := e.do("GET", "/api/v1/documents?"+tc.query, nil, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tc.status)
			}
		})
	}
	for _, n := range []string{"2147483648", "9223372036854775808", "-1", "0"} {
		resp, b := e.do("GET", "/api/v1/documents/"+doc.ID+"/versions/"+n+"/file", nil, "", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("version %s: %d %s, want 404", n, resp.StatusCode, b)
		}
	}
}

// TestFileNamesAreCleaned: a stored name is at most 255 bytes of valid
// UTF-8, keeps its extension, and has no control or bidirectional
// formatting characters (U+202E would make "…fdp.exe" read "…exe.pdf").
func TestFileNamesAreCleaned(t *testing.T) {
	e := newEnv(t, 1<<20)
	pdf := testpdf.Bytes(testpdf.Options{Text: "names"})
	for _, tc := range []struct{ sent, want string }{
		{"hoá đơn\u202Efdp.exe", "hoá đơnfdp.exe"},
		{"a\u2066b\u2069\u200Fc\u061C.pdf", "abc.pdf"},
		{"c1\u0085control\u009b.pdf", "c1control.pdf"},
		{strings.Repeat("Quyết định ", 40) + ".pdf", ""},
		{"bad\xffutf8.pdf", "bad\uFFFDutf8.pdf"},
	} {
		resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Tên tệp"}, {name: "file", fileName: tc.sent, value: string(pdf)}}, nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%q: %d %s", tc.sent, resp.StatusCode, b)
		}
		d := decode[storage.Document](t, b)
		_, vb := e.do("GET", "/api/v1/documents/"+d.ID+"/versions", nil, "", nil)
		got := decode[struct{ Versions []storage.Version }](t, vb).Versions[0].FileName
		if tc.want != "" && got != tc.want {
			t.Errorf("%q stored as %q, want %q", tc.sent, got, tc.want)
		}
		if len(got) > 255 || !utf8.ValidString(got) || !strings.HasSuffix(got, ".pdf") && !strings.HasSuffix(got, ".exe") {
			t.Errorf("%q stored as %q (%d bytes)", tc.sent, got, len(got))
		}
	}
}

// TestByteAfterEOFAccepted: what viewers open, the service stores.
func TestByteAfterEOFAccepted(t *testing.T) {
	e := newEnv(t, 1<<20)
	pdf := testpdf.Bytes(testpdf.Options{Text: "trailing"})
	for _, tail := range []string{"x", "\n\n  \r\n", "\r\n--\r\n"} {
		resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Thừa byte " + tail}, {name: "file", fileName: "a.pdf", value: string(pdf) + tail}}, nil)
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%q after %%%%EOF: %d %s", tail, resp.StatusCode, b)
		}
	}
}

// TestFullDiskIs507 spools uploads on a 1 MiB tmpfs (a real full file
// system) and sends 2 MiB: the answer says the storage is full, and a small
// upload afterwards still works.
func TestFullDiskIs507(t *testing.T) {
	e := newEnv(t, 8<<20)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a 1 MiB tmpfs on %s (the test needs CAP_SYS_ADMIN, as root in a container): %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	full, err := s3.New(context.Background(), s3.Config{Endpoint: e.s3.Endpoint, AccessKey: e.s3.AccessKey, SecretKey: e.s3.SecretKey,
		Bucket: e.s3.Bucket, SpoolDir: dir, BufferMemory: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.configure(func(s *web.Server) { s.Blobs, s.Docs.Blobs = full, full })
	big := testpdf.Bytes(testpdf.Options{Size: 2 << 20})
	resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Đĩa đầy"}, {name: "file", fileName: "big.pdf", value: string(big)}}, nil)
	p := decode[problem](t, b)
	if resp.StatusCode != http.StatusInsufficientStorage || p.Type != "/problems/insufficient-storage" || p.Detail == "" {
		t.Fatalf("full disk: %d %s, want 507 insufficient-storage", resp.StatusCode, b)
	}
	if rows, blobs := e.stored(); rows != 0 || blobs != 0 {
		t.Fatalf("%d rows and %d blobs after a failed upload", rows, blobs)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("%d spool files left on the full disk", len(left))
	}
	e.uploadPDF("Sau khi đĩa đầy", testpdf.Bytes(testpdf.Options{Text: "small"}))
}

// TestNULInJSONIs400: JSON may carry \u0000, which PostgreSQL text refuses;
// wherever a route does not check for it, the answer is still 400.
func TestNULInJSONIs400(t *testing.T) {
	e := newEnv(t, 1<<20)
	admin := e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin})
	saved := e.token
	e.token = admin.token
	defer func() { e.token = saved }()
	resp, b := e.do("POST", "/api/v1/organizations/"+e.office.org.ID+"/units", strings.NewReader(`{"code":"KT","name":"Kế\u0000toán"}`), "application/json", nil)
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("NUL in a unit name: %d %s", resp.StatusCode, b)
	}
	// Refused as the body's fault before any work, whichever route: before,
	// PostgreSQL refused them mid-transaction (the sweep's finding).
	for _, tc := range []struct{ path, body string }{
		{"/api/v1/users", `{"username":"moi\u0000","full_name":"Người mới","roles":["drafter"]}`},
		{"/api/v1/users/" + admin.user.ID + "/tokens", `{"name":"tích\u0000hợp","scopes":["documents:read"]}`},
		{"/api/v1/session", `{"username":"quantri\u0000","password":"x"}`},
		{"/api/v1/organizations/" + e.office.org.ID + "/units", `{"code":"KT","name":"Kế\u0000toán"}`},
	} {
		resp, b := e.do("POST", tc.path, strings.NewReader(tc.body), "application/json", nil)
		if p := decode[problem](t, b); resp.StatusCode != http.StatusBadRequest || p.Type != "/problems/malformed-json" {
			t.Errorf("NUL in %s: %d %s, want 400 malformed-json", tc.path, resp.StatusCode, b)
		}
	}
}
