package web_test

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// issuedOverHTTP is a world where the signer signed the printed draft and
// the clerk issued it (01/QĐ-UBND, version 3).
type issuedOverHTTP struct {
	*signWorld
	clerk member
	doc   storage.Document
	out   register.Issued
}

func newIssuedOverHTTP(t *testing.T) *issuedOverHTTP {
	w := newSignWorld(t)
	w.e.configure(func(s *web.Server) {
		s.Issuing = web.IssueConfig{SealImage: func(_ context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
		s.PublicURL = "https://vanthu.example"
		s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())}
	})
	w.bindP12(w.an, devpki.Official)
	org := w.e.office.org.ID
	w.bindSeal(org)
	iw := &issuedOverHTTP{signWorld: w, clerk: w.e.member(org, "vanthu", []string{storage.RoleClerk}, w.e.office.units["VP"].ID)}
	iw.doc = w.e.uploadPDF("Quyết định ban hành quy chế", draft(t, "qd-chu-tich.pdf"))
	w.turns.give(iw.doc.ID, w.an.user.ID)
	if resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+iw.doc.ID+"/sign", map[string]any{}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign: %d %s", resp.StatusCode, b)
	}
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE documents SET status = 'signed' WHERE id = $1", iw.doc.ID); err != nil {
		t.Fatal(err)
	}
	resp, b := w.call(iw.clerk.token, "POST", "/api/v1/documents/"+iw.doc.ID+"/issue", map[string]any{"recipients": []map[string]string{{"name": "Công ty ABC", "email": "vanthu@abc.example"}}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, b)
	}
	iw.out = decode[register.Issued](t, b)
	return iw
}

// publicVerify posts a file to the public route without any credential.
func (w *issuedOverHTTP) publicVerify(pdf []byte) (*http.Response, publicverify.Answer, []byte) {
	w.e.t.Helper()
	body, ct := multipartBody([]part{{name: "file", fileName: "x.pdf", value: string(pdf)}})
	resp, b := send(w.e.t, w.e.url, "", "POST", "/api/v1/public/verify", body, ct)
	var a publicverify.Answer
	if resp.StatusCode == http.StatusOK {
		a = decode[publicverify.Answer](w.e.t, b)
	}
	return resp, a, b
}

// TestCopyAndPublicVerificationOverHTTP: the clerk makes a TRÍCH SAO of the
// issued document (201, 01/TrS-UBND, VALID in the verifier and pdfsig),
// the copies register serves it; anyone, without logging in, finds the
// issued file and the copy by their bytes and by the copy's QR URL, does
// not find a file with one byte changed, and does not find the document
// once it is classified: the same answer as an unknown file.
func TestCopyAndPublicVerificationOverHTTP(t *testing.T) {
	w := newIssuedOverHTTP(t)
	resp, b := w.call(w.clerk.token, "POST", "/api/v1/documents/"+w.doc.ID+"/copies", map[string]any{"form": "TrS", "pages": []int{1}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("copy: %d %s", resp.StatusCode, b)
	}
	c := decode[copies.Copy](t, b)
	if c.Symbol != "01/TrS-UBND" || c.OriginalID != w.doc.ID || !strings.HasPrefix(c.VerifyURL, "https://vanthu.example/v/") {
		t.Fatalf("copy %+v", c)
	}
	if resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+w.doc.ID+"/copies", map[string]any{"form": "SY"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a signer copies: %d %s", resp.StatusCode, b)
	}
	resp, copyPDF := w.call(w.clerk.token, "GET", "/api/v1/documents/"+c.ID+"/versions/1/file", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download the copy: %d %s", resp.StatusCode, copyPDF)
	}
	rep, err := verify.Verify(context.Background(), bytes.NewReader(copyPDF), int64(len(copyPDF)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 1 {
		t.Fatalf("copy: %s with %d signatures", rep.Verdict, len(rep.Signatures))
	}
	rendercheck.AssertPdfsigValid(t, copyPDF, 1)

	resp, b = w.call(w.clerk.token, "GET", "/api/v1/registers/"+c.RegisterID+"/entries", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"so_ky_hieu":"01/TrS-UBND"`) {
		t.Fatalf("copies register: %d %s", resp.StatusCode, b)
	}

	issued := w.file(w.doc.ID, w.out.Version)
	resp, a, b := w.publicVerify(issued)
	if resp.StatusCode != http.StatusOK || !a.Found || a.Kind != "issued" || a.Number != "01/QĐ-UBND" || a.Verdict != "VALID" ||
		len(a.Signatures) != 2 || a.Register == nil || a.Register.Number != 1 || a.Organization.Name != w.e.office.org.Name {
		t.Fatalf("issued file: %d %s", resp.StatusCode, b)
	}
	if strings.Contains(string(b), w.doc.ID) {
		t.Fatalf("the public answer names the document's internal id: %s", b)
	}
	resp, a, b = w.publicVerify(copyPDF)
	if !a.Found || a.Kind != "copy" || a.Number != "01/TrS-UBND" || a.CopyOf == nil || a.CopyOf.Number != "01/QĐ-UBND" || a.Verdict != "VALID" {
		t.Fatalf("copy: %d %s", resp.StatusCode, b)
	}
	tampered := bytes.Clone(issued)
	tampered[len(tampered)/2] ^= 0x01
	resp, a, b = w.publicVerify(tampered)
	if resp.StatusCode != http.StatusOK || a.Found || a.Kind != "" || a.Number != "" {
		t.Fatalf("tampered file: %d %s", resp.StatusCode, b)
	}
	unknownBody := string(b)

	code := strings.TrimPrefix(c.VerifyURL, "https://vanthu.example/v/")
	req, _ := http.NewRequest("GET", w.e.url+"/v/"+code, nil)
	req.Header.Set("Accept", "application/json")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	byCode := decodeBody[publicverify.Answer](t, r2)
	if !byCode.Found || byCode.SHA256 != c.SHA256 {
		t.Fatalf("by code: %+v", byCode)
	}
	resp, b = send(t, w.e.url, "", "GET", "/v/"+code, nil, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "01/TrS-UBND") {
		t.Fatalf("QR page: %d %s", resp.StatusCode, b)
	}

	// Classified after issuing: answered exactly as the tampered file
	// was, but for its hash.
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE documents SET confidentiality = 'mat' WHERE id = $1", w.doc.ID); err != nil {
		t.Fatal(err)
	}
	_, a, b = w.publicVerify(issued)
	if a.Found || strings.Replace(string(b), sha(issued), sha(tampered), 1) != unknownBody {
		t.Fatalf("confidential document: %s, unknown file: %s", b, unknownBody)
	}
	// The copy is a document of its own and still answers, but no longer
	// names its classified original.
	_, a, _ = w.publicVerify(copyPDF)
	if !a.Found || a.CopyOf == nil || a.CopyOf.Number != "" {
		t.Fatalf("copy of a classified original: %+v", a.CopyOf)
	}
}

func decodeBody[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return decode[T](t, b.Bytes())
}

// TestPublicVerificationRateLimit: an address gets its limit of answers,
// then 429 with Retry-After, before its upload is read; another address
// is not affected.
func TestPublicVerificationRateLimit(t *testing.T) {
	e := newEnv(t, 1<<20)
	e.configure(func(s *web.Server) {
		s.PublicVerifyLimit = publicverify.Limit{Requests: 3, Window: time.Hour}
	})
	pdf := testpdf.Bytes(testpdf.Options{Text: "khong phai van ban"})
	post := func() (*http.Response, []byte) {
		body, ct := multipartBody([]part{{name: "file", fileName: "x.pdf", value: string(pdf)}})
		return send(t, e.url, "", "POST", "/api/v1/public/verify", body, ct)
	}
	for i := 0; i < 3; i++ {
		if resp, b := post(); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"found":false`) {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	resp, b := post()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("over the limit: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if resp, _ := send(t, e.url, "", "GET", "/v/AAAAAAAAAAAAAAAAAAAAAA", nil, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the QR route shares the limit: %d", resp.StatusCode)
	}
	// Another address (through a trusted proxy) still gets answers.
	e.configure(func(s *web.Server) { s.TrustedProxies = trustLoopback() })
	body, ct := multipartBody([]part{{name: "file", fileName: "x.pdf", value: string(pdf)}})
	req, _ := http.NewRequest("POST", e.url+"/api/v1/public/verify", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK {
		t.Fatalf("another address: %d", r2.StatusCode)
	}
}

func trustLoopback() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }
