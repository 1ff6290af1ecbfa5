package diff

import (
	"testing"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/pdf/pdftest"
)

// FuzzPageContent measures arbitrary content streams (with a Type0 font's
// /W array and a form XObject that draws itself): it must never panic and
// stays within its operation and box limits.
func FuzzPageContent(f *testing.F) {
	for _, s := range []string{
		"BT /F1 12 Tf 72 760 Td (QUYET DINH) Tj ET",
		"q 0.24 0 0 -0.24 0 841 cm BT /F2 17 Tf 1 0 0 -1 22 26 Tm <06d0> Tj 12.5 0 Td [<003c> -250 <0003>] TJ ET Q",
		"0 0 0 RG 72 600 m 520 600 l S 1 1 1 rg 0 0 595 842 re f 0.5 g 10 10 50 50 re f* /X1 Do",
		"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI Q (unbalanced ( string \\) T* ' \" TL 12 TD",
		"[[[[[[[[ << /a << /b [1 2 <4142> (x)] >> >> BDC",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		b := pdftest.New()
		b.Obj(1, "<</Type /Catalog /Pages 2 0 R>>")
		b.Obj(2, "<</Type /Pages /Kids [3 0 R] /Count 1>>")
		b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R /F2 6 0 R>> /XObject <</X1 8 0 R>>>> /Contents 4 0 R>>")
		b.Stream(4, "", content)
		b.Obj(5, "<</Type /Font /Subtype /Type1 /BaseFont /Times-Roman /FirstChar 32 /Widths [250 333 408]>>")
		b.Obj(6, "<</Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [7 0 R]>>")
		b.Obj(7, "<</Type /Font /Subtype /CIDFontType2 /DW 1000 /W [3 [278] 60 70 500 4000000000 [1]]>>")
		b.Stream(8, "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources <</XObject <</X1 8 0 R>>>>", content)
		b.EndRevision()
		file, err := pdf.OpenBytes(b.Bytes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		boxes, _, err := ContentBoxes(file, 0, pdf.Ref{Num: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(boxes) > maxContentBoxes {
			t.Fatalf("%d boxes", len(boxes))
		}
	})
}
