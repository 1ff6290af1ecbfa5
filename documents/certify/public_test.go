package certify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
)

// Certified copies are public records: each copy of a request is found by
// its SHA-256 (uploaded or named) and by the code of the QR URL drawn beside
// its statement, answered as a certified copy with the certifying body, the
// certification number and book, the date, its register line and the
// signatures' verdict — and nothing of the requester or the original; a
// byte changed is not found.
func TestCertifiedCopyPublicVerification(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.scanned(3, 2)
	w.svc.PublicURL = "https://xacminh.anbinh.gov.vn"
	out, err := w.svc.Certify(ctx, w.certifier, c.ID, "https://motcua.anbinh.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	pub := &publicverify.Service{DB: w.db, Blobs: w.svc.Docs.Blobs, TempDir: t.TempDir(),
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			return verify.Verify(ctx, r, size, verify.Options{Trust: chain.NewStore(w.pki.Root())})
		}}
	token, _ := tokenOf(t, out.Copies[0].DownloadURL)
	codes := map[string]bool{}
	for i, cp := range out.Copies {
		n := i + 1
		const base = "https://xacminh.anbinh.gov.vn/v/"
		if !strings.HasPrefix(cp.VerifyURL, base) {
			t.Fatalf("copy %d: verify URL %q", n, cp.VerifyURL)
		}
		code := strings.TrimPrefix(cp.VerifyURL, base)
		if codes[code] {
			t.Fatalf("copy %d shares its code %s", n, code)
		}
		codes[code] = true
		rc, _, err := w.svc.Download(ctx, token, n)
		if err != nil {
			t.Fatal(err)
		}
		file, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		byUpload, err := pub.Upload(ctx, bytes.NewReader(file), 20<<20)
		if err != nil {
			t.Fatal(err)
		}
		bySHA, err := pub.BySHA256(ctx, cp.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		byCode, err := pub.ByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		for how, a := range map[string]publicverify.Answer{"upload": byUpload, "sha256": bySHA, "code": byCode} {
			if !a.Found || a.Kind != publicverify.KindCertifiedCopy || a.SHA256 != cp.SHA256 || a.Organization == nil ||
				a.Organization.Name != w.org.Name || a.Certification == nil || a.Certification.Number != out.Number ||
				a.Certification.Book != out.Book || a.Certification.Copy != n || a.Certification.Copies != 2 ||
				a.Date != out.CertifiedAt.In(certify.Vietnam).Format("2006-01-02") || a.Register == nil || a.Register.Number != out.Number {
				t.Fatalf("copy %d by %s: %+v (certification %+v)", n, how, a, a.Certification)
			}
			if a.Verdict != "VALID" || len(a.Signatures) != 2 {
				t.Fatalf("copy %d by %s: verdict %s with %d signatures", n, how, a.Verdict, len(a.Signatures))
			}
			js, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			for _, private := range []string{"Nguyễn Thị Hồng", "001190012345", "Giấy khai sinh", c.ID, token} {
				if strings.Contains(string(js), private) {
					t.Fatalf("copy %d by %s: the answer tells %q: %s", n, how, private, js)
				}
			}
		}
		tampered := bytes.Clone(file)
		tampered[len(tampered)/2] ^= 1
		if a, err := pub.Upload(ctx, bytes.NewReader(tampered), 20<<20); err != nil || a.Found || a.Certification != nil {
			t.Fatalf("copy %d with a byte changed: %+v, %v", n, a, err)
		}
		if n == 1 {
			// The statement box is 14 pt from the bottom right, 175 pt
			// high; the code (72 pt) 6 pt above it, on the last page.
			const dpi = 288
			last := rendercheck.Render(t, file, 3, dpi)
			pageH := float64(last.Bounds().Dy()) * 72 / dpi
			rendercheck.QR(t, last, dpi, cp.VerifyURL, float64(scantest.A5Width)-14-72, pageH-(14+175+6+72), 72)
		}
	}
	// A request refused or not yet certified has no copies to find, and an
	// unknown code is not found.
	if a, err := pub.ByCode(ctx, publicverify.NewCode()); err != nil || a.Found {
		t.Fatalf("an unknown code: %+v, %v", a, err)
	}
	if n := w.count("SELECT count(*) FROM public_records WHERE certified_copy_id IS NOT NULL"); n != 2 {
		t.Fatalf("%d certified copies recorded, want 2", n)
	}
}
