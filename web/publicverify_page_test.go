package web

import (
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/publicverify"
)

// TestVerdictPageCertifiedCopy: the QR code's page names a certified copy
// as such, with its certification number, book and copy, and the
// certifying body.
func TestVerdictPageCertifiedCopy(t *testing.T) {
	var b strings.Builder
	a := publicverify.Answer{Found: true, Kind: publicverify.KindCertifiedCopy, SHA256: strings.Repeat("a", 64),
		Organization: &publicverify.Organization{Name: "Ủy ban nhân dân xã An Bình", Code: "UBNDXAB"},
		Number:       "3, quyển số 01/2026-SCTĐT/BS", Date: "2026-11-30", Verdict: "VALID",
		Certification: &publicverify.Certification{Number: 3, Book: "01/2026-SCTĐT/BS", Copy: 2, Copies: 2}}
	if err := verdictPage.Execute(&b, a); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Bản sao chứng thực", "Ủy ban nhân dân xã An Bình", "Số chứng thực 3, quyển số 01/2026-SCTĐT/BS (bản 2/2)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the page lacks %q:\n%s", want, b.String())
		}
	}
}
