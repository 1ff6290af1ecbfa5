package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

func TestUploadFindDownload(t *testing.T) {
	e := newEnv(t, 10<<20)
	pdf := testpdf.Bytes(testpdf.Options{Pages: 2, Size: 300 << 10})
	doc := e.uploadPDF("Quyết định về việc ban hành Quy chế văn thư", pdf)
	e.uploadPDF("Kế hoạch công tác năm 2027", testpdf.Bytes(testpdf.Options{Text: "other"}))

	for _, tc := range []struct {
		q    string
		want int
	}{{"quyet dinh", 1}, {"QUYẾT ĐỊNH", 1}, {"van thu", 1}, {"ke hoach", 1}, {"", 2}, {"quyet ke", 0}, {"50%", 0}} {
		resp, b := e.do("GET", "/api/v1/documents?q="+url.QueryEscape(tc.q), nil, "", nil)
		page := decode[struct{ Documents []storage.Document }](t, b)
		if resp.StatusCode != 200 || len(page.Documents) != tc.want {
			t.Errorf("q=%q: %d, %d documents, want %d", tc.q, resp.StatusCode, len(page.Documents), tc.want)
		}
	}

	resp, b := e.do("GET", "/api/v1/documents/"+doc.ID+"/versions/1/file", nil, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, pdf) {
		t.Fatalf("download: %d, %d bytes, identical=%v", resp.StatusCode, len(b), bytes.Equal(b, pdf))
	}
	if got := resp.Header.Get("ETag"); got != `"`+sha(pdf)+`"` {
		t.Errorf("ETag %s", got)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="quyet dinh.pdf"; filename*=UTF-8''quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf` {
		t.Errorf("Content-Disposition %q", cd)
	}
	resp, b = e.do("GET", "/api/v1/documents/"+doc.ID+"/versions/1/file", nil, "", map[string]string{"Range": "bytes=100-199"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, pdf[100:200]) {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(b))
	}
	resp, _ = e.do("GET", "/api/v1/documents/"+doc.ID+"/versions/1/file", nil, "", map[string]string{"If-None-Match": `"` + sha(pdf) + `"`})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", resp.StatusCode)
	}
	for _, path := range []string{"/versions/2/file", "/versions/0/file", "/versions/x/file"} {
		if resp, _ := e.do("GET", "/api/v1/documents/"+doc.ID+path, nil, "", nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := e.do("GET", "/api/v1/documents/not-a-uuid", nil, "", nil); resp.StatusCode != 404 {
		t.Errorf("bad id: %d", resp.StatusCode)
	}
}

func TestBadUploadsStoreNothing(t *testing.T) {
	valid := testpdf.Bytes(testpdf.Options{})
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pdf")
	encrypted := filepath.Join(dir, "encrypted.pdf")
	if err := os.WriteFile(plain, valid, 0o600); err != nil {
		t.Fatal(err)
	}
	qpdf := testharness.Tool(t, "qpdf", "qpdf")
	if out, err := exec.Command(qpdf, "--encrypt", "user", "owner", "256", "--", plain, encrypted).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	encBytes, _ := os.ReadFile(encrypted)
	badXref := bytes.Replace(valid, []byte("startxref\n"), []byte("startxref\n9"), 1)

	fields := func(typ, subject, file string) []part {
		var p []part
		if typ != "" {
			p = append(p, part{name: "type", value: typ})
		}
		if subject != "" {
			p = append(p, part{name: "subject", value: subject})
		}
		if file != "\x00none" {
			p = append(p, part{name: "file", fileName: "f.pdf", value: file})
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		parts  []part
		status int
		slug   string
	}{
		{"not a PDF", fields("QĐ", "s", "hello, this is text"), 415, "not-a-pdf"},
		{"encrypted", fields("QĐ", "s", string(encBytes)), 422, "encrypted-pdf"},
		{"truncated", fields("QĐ", "s", string(valid[:len(valid)/2])), 422, "truncated-pdf"},
		{"startxref outside", fields("QĐ", "s", string(badXref)), 422, "unparsable-pdf"},
		{"empty", fields("QĐ", "s", ""), 400, "empty-file"},
		{"oversized", fields("QĐ", "s", string(testpdf.Bytes(testpdf.Options{Size: 300 << 10}))), 413, "too-large"},
		{"missing type", fields("", "s", string(valid)), 400, "invalid-field"},
		{"unknown type", fields("XYZ", "s", string(valid)), 400, "invalid-field"},
		{"missing subject", fields("QĐ", "", string(valid)), 400, "invalid-field"},
		{"unknown urgency", append(fields("QĐ", "s", string(valid)), part{name: "urgency", value: "rất gấp"}), 400, "invalid-field"},
		{"missing file", fields("QĐ", "s", "\x00none"), 400, "missing-file"},
		{"file before fields, bad type", []part{{name: "file", fileName: "a.pdf", value: string(valid)}, {name: "type", value: "??"}, {name: "subject", value: "s"}}, 400, "invalid-field"},
		{"unknown unit", append(fields("QĐ", "s", "\x00none"), part{name: "unit", value: "KHONGCO"}, part{name: "file", fileName: "f.pdf", value: string(valid)}), 422, "unknown-unit"},
		{"unit given after the file", append(fields("QĐ", "s", string(valid)), part{name: "unit", value: "KHONGCO"}), 422, "unknown-unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 200<<10)
			resp, b := e.upload(tc.parts, nil)
			p := decode[problem](t, b)
			if resp.StatusCode != tc.status || p.Type != "/problems/"+tc.slug || p.Detail == "" {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.slug)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if rows, blobs := e.stored(); rows != 0 || blobs != 0 {
				t.Fatalf("stored %d rows and %d blobs after a rejected upload", rows, blobs)
			}
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	e := newEnv(t, 1<<20)
	for _, tc := range []struct {
		name, contentType, body, slug string
	}{
		{"no body", "", "", "missing-file"},
		{"json", "application/json", `{"type":"QĐ"}`, "missing-file"},
		// Go's multipart reader sees no parts at all in these.
		{"empty multipart", "multipart/form-data; boundary=xyz", "", "missing-file"},
		{"garbage multipart", "multipart/form-data; boundary=xyz", "this is not multipart at all", "missing-file"},
		{"unterminated field", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nQĐ", "malformed-body"},
		{"unterminated file", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\n", "malformed-body"},
	} {
		resp, b := e.do("POST", "/api/v1/documents", strings.NewReader(tc.body), tc.contentType, nil)
		if p := decode[problem](t, b); resp.StatusCode/100 != 4 || p.Type != "/problems/"+tc.slug || p.Detail == "" {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
	if rows, blobs := e.stored(); rows != 0 || blobs != 0 {
		t.Fatalf("%d rows, %d blobs", rows, blobs)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, 1<<20)
	for _, auth := range []string{"", "Bearer ", "Bearer wrong", "Basic abc"} {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/documents", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%q: %d %s", auth, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, 1<<20)
	pdf := testpdf.Bytes(testpdf.Options{})
	parts := []part{{name: "type", value: "CV"}, {name: "subject", value: "Công văn gửi Sở"}, {name: "file", fileName: "cv.pdf", value: string(pdf)}}
	hdr := map[string]string{"Idempotency-Key": "upload-1"}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := e.upload(parts, hdr)
			if resp.StatusCode != 201 {
				t.Errorf("upload %d: %d %s", i, resp.StatusCode, b)
				return
			}
			ids[i] = decode[storage.Document](t, b).ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("same key gave different documents: %v", ids)
		}
	}
	if rows, blobs := e.stored(); rows != 1 || blobs != 1 {
		t.Fatalf("%d rows, %d blobs", rows, blobs)
	}
}

func TestVersionsAreConsecutiveAndImmutable(t *testing.T) {
	e := newEnv(t, 1<<20)
	doc := e.uploadPDF("Dự thảo", testpdf.Bytes(testpdf.Options{Text: "v1"}))
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, ct := multipartBody([]part{{name: "file", fileName: "v.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "v" + string(rune('a'+i))}))}})
			if resp, b := e.do("POST", "/api/v1/documents/"+doc.ID+"/versions", body, ct, nil); resp.StatusCode != 201 {
				t.Errorf("add version: %d %s", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	_, b := e.do("GET", "/api/v1/documents/"+doc.ID+"/versions", nil, "", nil)
	vs := decode[struct{ Versions []storage.Version }](t, b).Versions
	if len(vs) != 6 {
		t.Fatalf("%d versions", len(vs))
	}
	for i, v := range vs {
		if v.Number != i+1 {
			t.Fatalf("version numbers %v", vs)
		}
	}
	_, err := e.db.Pool.Exec(context.Background(), "UPDATE document_versions SET size = 1")
	if err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("update of a version: %v", err)
	}
	body, ct := multipartBody([]part{{name: "file", fileName: "v.pdf", value: "not a pdf"}})
	if resp, _ := e.do("POST", "/api/v1/documents/"+doc.ID+"/versions", body, ct, nil); resp.StatusCode != 415 {
		t.Fatalf("bad version: %d", resp.StatusCode)
	}
}

func TestListingFiltersAndPages(t *testing.T) {
	e := newEnv(t, 1<<20)
	for i := 0; i < 5; i++ {
		e.uploadPDF("Thông báo số "+string(rune('A'+i)), testpdf.Bytes(testpdf.Options{Text: string(rune('A' + i))}))
	}
	body, ct := multipartBody([]part{{name: "type", value: "TB"}, {name: "subject", value: "Thông báo khác"}, {name: "unit", value: "VP"}, {name: "file", fileName: "tb.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "tb"}))}})
	if resp, b := e.do("POST", "/api/v1/documents", body, ct, nil); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		_, b := e.do("GET", "/api/v1/documents?type="+url.QueryEscape("QĐ")+"&limit=2&cursor="+cursor, nil, "", nil)
		page := decode[struct {
			Documents  []storage.Document
			NextCursor string `json:"next_cursor"`
		}](t, b)
		for _, d := range page.Documents {
			if seen[d.ID] || d.Type != "QĐ" {
				t.Fatalf("duplicate or wrong type %+v", d)
			}
			seen[d.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d documents over the pages", len(seen))
	}
	for _, tc := range []struct {
		query string
		want  int
	}{{"unit=VP", 1}, {"type=TB", 1}, {"from=2000-01-01&to=2100-01-01", 6}, {"to=2000-01-01", 0}, {"status=draft", 6}} {
		_, b := e.do("GET", "/api/v1/documents?"+tc.query, nil, "", nil)
		if n := len(decode[struct{ Documents []storage.Document }](t, b).Documents); n != tc.want {
			t.Errorf("%s: %d, want %d", tc.query, n, tc.want)
		}
	}
	for _, q := range []string{"cursor=zzz", "limit=0", "from=yesterday"} {
		if resp, _ := e.do("GET", "/api/v1/documents?"+q, nil, "", nil); resp.StatusCode != 400 {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
}

func TestSignedVersionIsRetained(t *testing.T) {
	e := newEnv(t, 1<<20)
	// A signature dictionary is what marks a signed PDF.
	pdf := testpdf.Bytes(testpdf.Options{Text: "/ByteRange [0 10 20 30]"})
	doc := e.uploadPDF("Quyết định đã ký", pdf)
	_, b := e.do("GET", "/api/v1/documents/"+doc.ID+"/versions", nil, "", nil)
	if vs := decode[struct{ Versions []storage.Version }](t, b).Versions; len(vs) != 1 || !vs[0].Signed {
		t.Fatalf("versions %+v", vs)
	}
	if err := e.blobs.Delete(context.Background(), sha(pdf)); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete of a signed version's bytes: %v", err)
	}
}

// Someone who may not create documents is refused before the file is read,
// and nothing is stored.
func TestRefusedUploadStoresNothing(t *testing.T) {
	e := newEnv(t, 1<<20)
	auditor := e.member(e.office.org.ID, "thanhtra", []string{storage.RoleAuditor}, e.office.units["VP"].ID)
	body, ct := multipartBody([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "s"},
		{name: "file", fileName: "f.pdf", value: string(testpdf.Bytes(testpdf.Options{}))}})
	resp, b := send(t, e.url, auditor.token, "POST", "/api/v1/documents", body, ct)
	if p := decode[problem](t, b); resp.StatusCode != http.StatusForbidden || p.Type != "/problems/forbidden" || p.Detail == "" {
		t.Fatalf("auditor upload: %d %s", resp.StatusCode, b)
	}
	if rows, blobs := e.stored(); rows != 0 || blobs != 0 {
		t.Fatalf("%d rows, %d blobs after a refused upload", rows, blobs)
	}
}
