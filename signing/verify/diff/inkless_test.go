package diff

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/pdf"
)

// The spaces Chromium prints in the blank of "Số:    /QĐ-UBND" draw no ink
// (their glyphs in the embedded TrueType program have no outline), so they
// cover nothing; the letters on either side still do.
func TestInklessGlyphsCoverNothing(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testharness.Drafts(t), "qd-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := pdf.OpenBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := newView(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	boxes, ok, err := ContentBoxes(f, 0, v.pages[0])
	if err != nil || !ok {
		t.Fatalf("measure: %v %v", ok, err)
	}
	// poppler's word boxes, in user space: "Số:" ends at x 128.45 and
	// "/QĐ-UBND" starts at 151.20, on the line at y 732–747.
	blank := Box{129, 733, 150.7, 746}
	so := Box{112, 733, 128, 746}
	coversBlank, coversSo := false, false
	for _, bx := range boxes {
		coversBlank = coversBlank || bx.overlaps(blank)
		coversSo = coversSo || bx.overlaps(so)
	}
	if coversBlank || !coversSo {
		t.Fatalf("blank covered %v (want false), \"Số:\" covered %v (want true)", coversBlank, coversSo)
	}
}
