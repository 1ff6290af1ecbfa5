package diff

import (
	"strings"
	"testing"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/pdf/pdftest"
)

// signedBase is pdftest.Signed with a text field 11 at rect, an unused
// annotation 12 and form XObject 13 (pre-placed shadow objects nothing
// references), and a tagged-PDF structure tree (14-16).
func signedBase(fieldRect string) *pdftest.Builder {
	b := pdftest.New()
	b.Extra = "/Info 10 0 R"
	b.Obj(1, "<</Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /StructTreeRoot 14 0 R /MarkInfo <</Marked true>>>>")
	b.Obj(2, "<</Type /Pages /Kids [3 0 R] /Count 1>>")
	b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R /Annots [7 0 R 11 0 R] /StructParents 0>>")
	b.Stream(4, "", []byte("BT /F1 12 Tf 72 760 Td (QUYET DINH so 05/QD-UBND) Tj ET 0 0 0 RG 72 600 m 520 600 l S"))
	b.Obj(5, "<</Type /Font /Subtype /Type1 /BaseFont /Times-Roman>>")
	b.Obj(6, "<</Fields [7 0 R 11 0 R] /SigFlags 3>>")
	b.Obj(7, "<</FT /Sig /T (Sig1) /Type /Annot /Subtype /Widget /F 132 /Rect [0 0 0 0] /P 3 0 R /V 8 0 R /AP <</N 9 0 R>>>>")
	b.Obj(8, "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 0 0 0] /Contents <00>>>")
	b.Stream(9, "/Type /XObject /Subtype /Form /BBox [0 0 0 0]", nil)
	b.Obj(10, "<</Producer (vanthu test)>>")
	b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect "+fieldRect+" /P 3 0 R /V (05)>>")
	b.Obj(12, "<</Type /Annot /Subtype /Square /Rect [60 750 400 790] /IC [1 1 1] /P 3 0 R>>")
	b.Stream(13, "/Type /XObject /Subtype /Form /BBox [0 0 128 20]", []byte("1 1 1 rg 0 0 128 20 re f BT (99) Tj ET"))
	b.Obj(14, "<</Type /StructTreeRoot /K [15 0 R] /ParentTree 16 0 R /ParentTreeNextKey 1>>")
	b.Obj(15, "<</Type /StructElem /S /P /P 14 0 R /Pg 3 0 R /K 0 /ActualText (QUYET DINH)>>")
	b.Obj(16, "<</Nums [0 [15 0 R]]>>")
	b.EndRevision()
	return b
}

const (
	clearField   = "[72 700 200 720]" // clear of the page's text
	overText     = "[72 755 300 775]" // over "QUYET DINH so 05/QD-UBND"
	pageAnnots   = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R /StructParents 0 /Annots [7 0 R 11 0 R "
	marginNote   = "<</Type /Annot /Subtype /Text /Rect [540 800 560 820] /Contents (Da xem) /P 3 0 R>>"
	stampOverTxt = "<</Type /Annot /Subtype /Stamp /Rect [72 750 300 780] /P 3 0 R /AP <</N 41 0 R>>>>"
)

func stampAppearance(b *pdftest.Builder) {
	b.Stream(41, "/Type /XObject /Subtype /Form /BBox [0 0 228 30]", []byte("1 0 0 rg 0 0 228 30 re f"))
}

// Each rule of the approval level, and the shadow attacks it must not
// clear, on a tagged one-page document with a text field.
func TestApprovalRules(t *testing.T) {
	tests := []struct {
		name       string
		field      string
		level      Level
		locks      []Lock
		update     func(b *pdftest.Builder)
		disallowed bool
		want       string
	}{
		{name: "comment in the margin", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, marginNote)
		}, want: RuleAnnotationAdded},
		{name: "comment in the margin with an appearance", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, "<</Type /Annot /Subtype /Stamp /Rect [400 20 560 60] /P 3 0 R /AP <</N 41 0 R>>>>")
			stampAppearance(b)
		}, want: RuleAnnotationAppearance},
		{name: "comment with its own border style object", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, "<</Type /Annot /Subtype /Text /Rect [540 800 560 820] /Contents (Da xem) /P 3 0 R /BS 44 0 R>>")
			b.Obj(44, "<</W 0>>")
		}, want: RuleAnnotationData},
		{name: "link over text without an appearance", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, "<</Type /Annot /Subtype /Link /Rect [72 755 300 775] /A <</S /URI /URI (https://example.vn)>> /P 3 0 R>>")
		}, want: RuleAnnotationAdded},
		{name: "stamp over signed text", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, stampOverTxt)
			stampAppearance(b)
		}, disallowed: true, want: "covers signed content of page 1"},
		{name: "comment over a signed rule line", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, "<</Type /Annot /Subtype /FreeText /Rect [100 590 300 610] /Contents (x) /P 3 0 R>>")
		}, disallowed: true, want: "covers signed content"},
		{name: "comment after a signature that locks fields", locks: []Lock{{Action: "All"}}, update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, marginNote)
		}, disallowed: true, want: "annotation 40 0 added"},
		{name: "comment at DocMDP P=2", level: FormFilling, update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, marginNote)
		}, disallowed: true, want: "annotation 40 0 added"},
		{name: "stamp over text at DocMDP P=3", level: Annotations, update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, stampOverTxt)
			stampAppearance(b)
		}, want: RuleAnnotation},
		{name: "pre-placed shadow annotation listed after signing", update: func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"12 0 R]>>")
		}, disallowed: true, want: "annotation 12 0 at [60 750 400 790] covers signed content"},
		{name: "field filled clear of the content", field: clearField, update: func(b *pdftest.Builder) {
			b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect "+clearField+" /P 3 0 R /V (06) /AP <</N 42 0 R>>>>")
			b.Stream(42, "/Type /XObject /Subtype /Form /BBox [0 0 128 20]", []byte("BT (06) Tj ET"))
		}, want: RuleFormFill},
		{name: "field filled over signed text", field: overText, update: func(b *pdftest.Builder) {
			b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect "+overText+" /P 3 0 R /V (06) /AP <</N 42 0 R>>>>")
			b.Stream(42, "/Type /XObject /Subtype /Form /BBox [0 0 228 20]", []byte("1 1 1 rg 0 0 228 20 re f BT (99) Tj ET"))
		}, disallowed: true, want: `form field "SoVanBan" filled in: its appearance annotation 11 0`},
		{name: "field filled over signed text with a pre-placed shadow appearance", field: overText, update: func(b *pdftest.Builder) {
			b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect "+overText+" /P 3 0 R /V (99) /AP <</N 13 0 R>>>>")
		}, disallowed: true, want: "covers signed content"},
		{name: "structure tree grows with a signature", update: func(b *pdftest.Builder) {
			addSignature(b, "Sig")
			b.Obj(3, pageAnnots+"20 0 R] /StructParents 0>>")
			b.Obj(14, "<</Type /StructTreeRoot /K [15 0 R 43 0 R] /ParentTree 16 0 R /ParentTreeNextKey 2>>")
			b.Obj(43, "<</Type /StructElem /S /Form /P 14 0 R /Pg 3 0 R /K <</Type /OBJR /Obj 20 0 R>>>>")
			b.Obj(16, "<</Nums [0 [15 0 R] 1 43 0 R]>>")
		}, want: RuleStructTree},
		{name: "structure element's text replaced", update: func(b *pdftest.Builder) {
			b.Obj(15, "<</Type /StructElem /S /P /P 14 0 R /Pg 3 0 R /K 0 /ActualText (DA THANH TOAN)>>")
		}, disallowed: true, want: "/ActualText changed"},
		{name: "structure element removed", update: func(b *pdftest.Builder) {
			b.Obj(14, "<</Type /StructTreeRoot /K [] /ParentTree 16 0 R /ParentTreeNextKey 1>>")
		}, disallowed: true, want: "/K changed"},
		{name: "structure tree at DocMDP P=1", level: NoChanges, update: func(b *pdftest.Builder) {
			b.Obj(16, "<</Nums [0 [15 0 R] 1 15 0 R]>>")
		}, disallowed: true, want: "where DocMDP permits no changes"},
		{name: "MarkInfo set by the signer", update: func(b *pdftest.Builder) {
			b.Obj(1, "<</Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /StructTreeRoot 14 0 R /MarkInfo <</Marked true /Suspects false>>>>")
		}, want: RuleCatalog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			field := tc.field
			if field == "" {
				field = clearField
			}
			b := signedBase(field)
			tc.update(b)
			b.EndRevision()
			f, err := pdf.OpenBytes(b.Bytes(), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Analyze(f, 0, tc.level, tc.locks)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, c := range res.Changes {
				all = append(all, c.Kind+" "+c.Ref.String()+" ["+c.Rule+"] "+c.Detail)
			}
			joined := strings.Join(all, "\n")
			if res.Disallowed != tc.disallowed {
				t.Errorf("disallowed = %v, want %v; changes:\n%s", res.Disallowed, tc.disallowed, joined)
			}
			if !strings.Contains(joined, tc.want) {
				t.Errorf("changes do not mention %q:\n%s", tc.want, joined)
			}
		})
	}
}

// The measured content of the test page: the title's glyphs and the rule.
func TestPageContentBoxes(t *testing.T) {
	b := signedBase(clearField)
	f, err := pdf.OpenBytes(b.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := newView(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	boxes, ok := v.pageContent(pdf.Ref{Num: 3})
	if !ok {
		t.Fatal("page not measured")
	}
	// 24 glyphs of the title, 1 stroked segment.
	if len(boxes) != 25 {
		t.Fatalf("%d boxes, want 25: %v", len(boxes), boxes)
	}
	if b := boxes[0]; b.X1 != 72 || b.Y1 > 760 || b.Y2 < 768 {
		t.Errorf("first glyph at %v, want from (72, <=760) up to >=768", b)
	}
	if l := boxes[24]; l.X1 > 72 || l.X2 < 520 || l.Y1 > 600 || l.Y2 < 600 {
		t.Errorf("rule line at %v", l)
	}
}

// A later revision whose startxref points nowhere is rebuilt from its
// objects; the analysis says so and judges what the rebuilt revision holds.
func TestRepairedRevisionIsJudged(t *testing.T) {
	for _, tc := range []struct {
		name       string
		update     func(b *pdftest.Builder)
		disallowed bool
	}{
		{"comment in the margin", func(b *pdftest.Builder) {
			b.Obj(3, pageAnnots+"40 0 R]>>")
			b.Obj(40, marginNote)
		}, false},
		{"content replaced", func(b *pdftest.Builder) {
			b.Stream(4, "", []byte("BT /F1 12 Tf 72 760 Td (DA THANH TOAN) Tj ET"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := signedBase(clearField)
			tc.update(b)
			b.EndRevision()
			data := b.Bytes()
			i := strings.LastIndex(string(data), "startxref\n")
			data = append(data[:i:i], []byte("startxref\n7\n%%EOF\n")...)
			f, err := pdf.OpenBytes(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Analyze(f, 0, Approval, nil)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			repaired := false
			for _, c := range res.Changes {
				all = append(all, c.Kind+" "+c.Ref.String()+" ["+c.Rule+"] "+c.Detail)
				repaired = repaired || c.Rule == RuleRepairedXref
			}
			if !repaired || res.Disallowed != tc.disallowed {
				t.Fatalf("repaired %v, disallowed %v (want %v):\n%s", repaired, res.Disallowed, tc.disallowed, strings.Join(all, "\n"))
			}
		})
	}
}
