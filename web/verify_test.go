package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/ltv"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/tamper"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// verifyAnswer is the part of a report the tests look at.
type verifyAnswer struct {
	File       string `json:"file"`
	SHA256     string `json:"sha256"`
	Verdict    string `json:"verdict"`
	Signatures []struct {
		Field         string `json:"field"`
		Signer        string `json:"signer"`
		Level         string `json:"level"`
		Indication    string `json:"indication"`
		SubIndication string `json:"sub_indication"`
		Coverage      string `json:"coverage"`
		Modifications string `json:"modifications"`
	} `json:"signatures"`
	Document *storage.Document `json:"document"`
}

// signedPDF signs a one-page PDF as the dev PKI's official, at B-B: its
// revocation status is found online, from the dev PKI's OCSP responder.
func signedPDF(t testing.TB, pki *devpki.PKI, text string) []byte {
	return signedAt(t, pki, text, signing.Options{Level: signing.LevelBB, Reason: "Phê duyệt"})
}

func signedAt(t testing.TB, pki *devpki.PKI, text string, opts signing.Options) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, testpdf.Bytes(testpdf.Options{Pages: 1, Text: text}), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.SignFile(context.Background(), in, out, key, opts); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) verifyUpload(query string, parts []part) (*http.Response, []byte) {
	e.t.Helper()
	body, ct := multipartBody(parts)
	return e.do("POST", "/api/v1/verify"+query, body, ct, nil)
}

func TestVerifyUpload(t *testing.T) {
	e := newEnv(t, 1<<20)
	pki := testharness.DevPKI(t)
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())} })
	signed := signedPDF(t, pki, "Quyet dinh 12/QD-UBND")
	tampered, err := tamper.AppendContentUpdate(signed)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van chua ky"})

	cases := []struct {
		name    string
		query   string
		pdf     []byte
		verdict string
		level   string
	}{
		{"signed", "", signed, "VALID", "B-B"},
		{"signed, offline: no revocation data in the file", "?offline=true", signed, "INDETERMINATE", "B-B"},
		{"signed, validated before the certificate was issued", "?at=2001-01-01T00:00:00Z", signed, "INDETERMINATE", "B-B"},
		{"a page changed after signing", "", tampered, "INVALID", "B-B"},
		{"unsigned", "", unsigned, "UNSIGNED", ""},
	}
	rows, blobs := e.stored()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := e.verifyUpload(c.query, []part{{name: "file", fileName: "Quyết định.pdf", value: string(c.pdf)}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			a := decode[verifyAnswer](t, b)
			if a.Verdict != c.verdict || a.SHA256 != sha(c.pdf) || a.File != "Quyết định.pdf" || a.Document != nil {
				t.Fatalf("answer %s", b)
			}
			if c.level == "" {
				if len(a.Signatures) != 0 {
					t.Fatalf("signatures in an unsigned file: %s", b)
				}
				return
			}
			if len(a.Signatures) != 1 || a.Signatures[0].Level != c.level || !strings.Contains(a.Signatures[0].Signer, "CN=") {
				t.Fatalf("signatures %s", b)
			}
		})
	}
	if r, bl := e.stored(); r != rows || bl != blobs {
		t.Errorf("verifying stored something: %d rows, %d blobs; were %d, %d", r, bl, rows, blobs)
	}

	t.Run("nothing trusted", func(t *testing.T) {
		e.configure(func(s *web.Server) { s.Verify = verify.Options{} })
		defer e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())} })
		_, b := e.verifyUpload("", []part{{name: "file", fileName: "a.pdf", value: string(signed)}})
		if a := decode[verifyAnswer](t, b); a.Verdict != "INDETERMINATE" || a.Signatures[0].SubIndication != "NO_CERTIFICATE_CHAIN_FOUND" {
			t.Fatalf("without anchors: %s", b)
		}
	})
	t.Run("a deployment that is offline stays offline", func(t *testing.T) {
		e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root()), Offline: true} })
		defer e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())} })
		_, b := e.verifyUpload("?offline=false", []part{{name: "file", fileName: "a.pdf", value: string(signed)}})
		if a := decode[verifyAnswer](t, b); a.Verdict != "INDETERMINATE" {
			t.Fatalf("offline deployment asked online: %s", b)
		}
	})
	t.Run("text in English", func(t *testing.T) {
		resp, b := e.verifyUpload("?format=text&lang=en", []part{{name: "file", fileName: "a.pdf", value: string(signed)}})
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || !strings.Contains(string(b), "Verdict: VALID") {
			t.Fatalf("%s: %s", ct, b)
		}
	})
	t.Run("text in Vietnamese by default", func(t *testing.T) {
		_, b := e.verifyUpload("?format=text", []part{{name: "file", fileName: "a.pdf", value: string(tampered)}})
		if !strings.Contains(string(b), "KHÔNG HỢP LỆ") {
			t.Fatalf("%s", b)
		}
	})
	t.Run("PDF report", func(t *testing.T) {
		resp, b := e.verifyUpload("?format=pdf", []part{{name: "file", fileName: "a.pdf", value: string(signed)}})
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/pdf" {
			t.Fatalf("%d %s", resp.StatusCode, ct)
		}
		if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b[len(b)-32:], []byte("%%EOF")) {
			t.Fatalf("not a complete PDF: %.40q…", b)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=\"verification-"+sha(signed)[:12]) {
			t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
		}
	})
}

func TestVerifyUploadRefusals(t *testing.T) {
	e := newEnv(t, 64<<10)
	pdf := string(testpdf.Bytes(testpdf.Options{Pages: 1}))
	big := string(testpdf.Bytes(testpdf.Options{Pages: 1, Size: 100 << 10}))
	cases := []struct {
		name   string
		query  string
		parts  []part
		status int
		slug   string
	}{
		{"unknown format", "?format=xml", []part{{name: "file", fileName: "a.pdf", value: pdf}}, 400, "invalid-field"},
		{"unknown language", "?lang=fr", []part{{name: "file", fileName: "a.pdf", value: pdf}}, 400, "invalid-field"},
		{"time not RFC 3339", "?at=yesterday", []part{{name: "file", fileName: "a.pdf", value: pdf}}, 400, "invalid-field"},
		{"offline not a boolean", "?offline=maybe", []part{{name: "file", fileName: "a.pdf", value: pdf}}, 400, "invalid-field"},
		{"no file", "", []part{{name: "subject", value: "x"}}, 400, "missing-file"},
		{"two files", "", []part{{name: "file", fileName: "a.pdf", value: pdf}, {name: "file", fileName: "b.pdf", value: pdf}}, 400, "invalid-field"},
		{"empty file", "", []part{{name: "file", fileName: "a.pdf", value: ""}}, 400, "empty-file"},
		{"not a PDF", "", []part{{name: "file", fileName: "a.pdf", value: "PK\x03\x04 a zip file"}}, 415, "not-a-pdf"},
		{"too large", "", []part{{name: "file", fileName: "a.pdf", value: big}}, 413, "too-large"},
		{"store without a subject", "?store=true", []part{{name: "type", value: "QĐ"}, {name: "file", fileName: "a.pdf", value: pdf}}, 400, "invalid-field"},
		{"store an encrypted PDF", "?store=true", []part{{name: "type", value: "QĐ"}, {name: "subject", value: "x"}, {name: "file", fileName: "a.pdf", value: strings.Replace(pdf, "/Root", "/Encrypt 9 0 R /Root", 1)}}, 422, "encrypted-pdf"},
	}
	rows, blobs := e.stored()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := e.verifyUpload(c.query, c.parts)
			p := decode[problem](t, b)
			if resp.StatusCode != c.status || p.Type != "/problems/"+c.slug || p.Detail == "" {
				t.Fatalf("status %d %s, want %d %s", resp.StatusCode, b, c.status, c.slug)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		resp, b := e.do("POST", "/api/v1/verify", strings.NewReader(pdf), "application/pdf", nil)
		if p := decode[problem](t, b); resp.StatusCode != 400 || p.Type != "/problems/missing-file" {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
	t.Run("truncated PDF is reported on, not refused", func(t *testing.T) {
		resp, b := e.verifyUpload("", []part{{name: "file", fileName: "a.pdf", value: pdf[:len(pdf)/2]}})
		if a := decode[verifyAnswer](t, b); resp.StatusCode != 200 || a.Verdict != "UNSIGNED" {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
	if r, bl := e.stored(); r != rows || bl != blobs {
		t.Errorf("refused requests stored something: %d rows, %d blobs; were %d, %d", r, bl, rows, blobs)
	}
}

// TestVerifyAndStore keeps a verified upload as a document and verifies
// its stored version.
func TestVerifyAndStore(t *testing.T) {
	e := newEnv(t, 1<<20)
	pki := testharness.DevPKI(t)
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())} })
	signed := signedPDF(t, pki, "Quyet dinh 13/QD-UBND")

	resp, b := e.verifyUpload("?store=true", []part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định đã ký"}, {name: "file", fileName: "qd.pdf", value: string(signed)}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	a := decode[verifyAnswer](t, b)
	if a.Verdict != "VALID" || a.Document == nil || resp.Header.Get("Location") != "/api/v1/documents/"+a.Document.ID {
		t.Fatalf("answer %s, Location %q", b, resp.Header.Get("Location"))
	}
	path := "/api/v1/documents/" + a.Document.ID + "/versions/1/verification"
	resp, b = e.do("GET", path, nil, "", nil)
	if v := decode[verifyAnswer](t, b); resp.StatusCode != 200 || v.Verdict != "VALID" || v.File != "qd.pdf" || v.SHA256 != sha(signed) {
		t.Fatalf("stored version: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do("GET", path+"?format=pdf&lang=en", nil, "", nil)
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("PDF report of a stored version: %d %.60q", resp.StatusCode, b)
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/documents/" + a.Document.ID + "/versions/2/verification", 404},
		{"/api/v1/documents/" + a.Document.ID + "/versions/x/verification", 404},
		{"/api/v1/documents/00000000-0000-0000-0000-000000000000/versions/1/verification", 404},
		{path + "?store=true", 400},
		{path + "?at=never", 400},
	} {
		if resp, b := e.do("GET", c.path, nil, "", nil); resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, b, c.status)
		}
	}

	t.Run("a retried store with an Idempotency-Key makes one document", func(t *testing.T) {
		rows, _ := e.stored()
		var ids []string
		for range 2 {
			body, ct := multipartBody([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định gửi lại"}, {name: "file", fileName: "qd.pdf", value: string(signed)}})
			resp, b := e.do("POST", "/api/v1/verify?store=true", body, ct, map[string]string{"Idempotency-Key": "nhan-qd-13"})
			a := decode[verifyAnswer](t, b)
			if resp.StatusCode != http.StatusCreated || a.Verdict != "VALID" || a.Document == nil || a.File != "qd.pdf" {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			ids = append(ids, a.Document.ID)
		}
		if r, _ := e.stored(); ids[0] != ids[1] || r != rows+1 {
			t.Fatalf("documents %v, %d rows more", ids, r-rows)
		}
	})
	t.Run("an auditor may verify but not store", func(t *testing.T) {
		auditor := e.member(e.office.org.ID, "kiemtra", []string{storage.RoleAuditor}, e.office.units["VP"].ID)
		body, ct := multipartBody([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "x"}, {name: "file", fileName: "a.pdf", value: string(signed)}})
		resp, b := send(t, e.url, auditor.token, "POST", "/api/v1/verify?store=true", body, ct)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		body, ct = multipartBody([]part{{name: "file", fileName: "a.pdf", value: string(signed)}})
		if resp, b := send(t, e.url, auditor.token, "POST", "/api/v1/verify", body, ct); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
}

// TestVerifyDetectsChangedStoredBytes: bytes in the object store that no
// longer hash to their key are a server fault, never a report.
func TestVerifyDetectsChangedStoredBytes(t *testing.T) {
	e := newEnv(t, 1<<20)
	pdf := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van se bi sua trong kho"})
	d := e.uploadPDF("Công văn", pdf)
	mc, err := minio.New(e.s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(e.s3.AccessKey, e.s3.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(pdf)
	changed[len(changed)/2] ^= 1
	if _, err := mc.PutObject(context.Background(), e.s3.Bucket, "sha256/"+sha(pdf), bytes.NewReader(changed), int64(len(changed)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, b := e.do("GET", "/api/v1/documents/"+d.ID+"/versions/1/verification", nil, "", nil)
	if p := decode[problem](t, b); resp.StatusCode != 500 || p.Type != "/problems/internal" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// TestConcurrentVerifications: more requests than verification slots, all
// answered, each with its own file's report.
func TestConcurrentVerifications(t *testing.T) {
	e := newEnv(t, 1<<20)
	pki := testharness.DevPKI(t)
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())} })
	var files [][]byte
	for i := range 3 {
		files = append(files, signedPDF(t, pki, fmt.Sprintf("Quyet dinh %d/QD-UBND", i)))
	}
	files = append(files, testpdf.Bytes(testpdf.Options{Pages: 1}))
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := files[i%len(files)]
			want := "VALID"
			if i%len(files) == 3 {
				want = "UNSIGNED"
			}
			body, ct := multipartBody([]part{{name: "file", fileName: "a.pdf", value: string(f)}})
			req, _ := http.NewRequest("POST", e.url+"/api/v1/verify", body)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+e.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var a verifyAnswer
			if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || a.SHA256 != sha(f) || a.Verdict != want {
				errs <- fmt.Sprintf("request %d: %d %v %+v, want %s", i, resp.StatusCode, err, a, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkVerify compares a verification through the API (upload, buffer,
// verify, JSON answer over loopback HTTP) with the library alone on the
// same B-LT file, offline so that no network time is measured.
func BenchmarkVerify(b *testing.B) {
	e := newEnv(b, 1<<20)
	pki := testharness.DevPKI(b)
	trust := verify.Options{Trust: chain.NewStore(pki.Root()), Offline: true}
	e.configure(func(s *web.Server) { s.Verify = trust })
	pdf := signedAt(b, pki, "Quyet dinh 1/QD-UBND", signing.Options{Level: signing.LevelBLT, TSAURL: pki.TSAURL(),
		Extender: &ltv.Extender{TSA: ltv.TSA{URL: pki.TSAURL()}}})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			rep, err := verify.Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), trust)
			if err != nil || rep.Verdict != "VALID" {
				b.Fatalf("%v %v", err, rep)
			}
		}
	})
	body, ct := multipartBody([]part{{name: "file", fileName: "qd.pdf", value: string(pdf)}})
	b.Run("api", func(b *testing.B) {
		for b.Loop() {
			resp, out := send(b, e.url, e.token, "POST", "/api/v1/verify", bytes.NewReader(body.Bytes()), ct)
			if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"verdict":"VALID"`)) {
				b.Fatalf("%d %s", resp.StatusCode, out)
			}
		}
	})
}
