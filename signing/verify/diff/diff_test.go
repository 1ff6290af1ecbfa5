package diff

import (
	"strings"
	"testing"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/pdf/pdftest"
)

const newSigField = "<</FT /Sig /T (Sig2) /Type /Annot /Subtype /Widget /F 132 /Rect [300 50 500 100] /P 3 0 R /V 21 0 R /AP <</N 22 0 R>>>>"

// addSignature appends a second signature field 20 (sig dict 21, appearance
// 22 with its own font 23) the way a signer does, with a signature of type
// typ (Sig or DocTimeStamp).
func addSignature(b *pdftest.Builder, typ string) {
	b.Obj(6, "<</Fields [7 0 R 11 0 R 20 0 R] /SigFlags 3>>")
	b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R /Annots [7 0 R 11 0 R 20 0 R]>>")
	b.Obj(20, newSigField)
	b.Obj(21, "<</Type /"+typ+" /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 0 0 0] /Contents <00>>>")
	b.Stream(22, "/Type /XObject /Subtype /Form /BBox [0 0 200 50] /Resources <</Font <</F2 23 0 R>>>>", []byte("BT /F2 9 Tf (Ky boi) Tj ET"))
	b.Obj(23, "<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
}

func TestAnalyzeUpdates(t *testing.T) {
	tests := []struct {
		name       string
		level      Level
		locks      []Lock
		update     func(b *pdftest.Builder)
		xrefStream bool
		disallowed bool
		want       string // a rule name or detail fragment that must appear
	}{
		{name: "nothing appended but an empty update", level: FormFilling, update: func(b *pdftest.Builder) {}, want: ""},
		{name: "DSS only, even with no changes permitted", level: NoChanges, update: func(b *pdftest.Builder) {
			b.Obj(1, "<</Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /DSS 30 0 R /Extensions <</ESIC <</BaseVersion /1.7 /ExtensionLevel 1>>>>>>")
			b.Obj(30, "<</Certs [31 0 R] /OCSPs [32 0 R] /VRI <</ABCD 33 0 R>>>>")
			b.Stream(31, "", []byte{0x30, 0x82})
			b.Stream(32, "", []byte{0x30, 0x82})
			b.Obj(33, "<</Cert [31 0 R]>>")
		}, want: RuleDSS},
		{name: "object 4 content stream redefined", level: FormFilling, update: func(b *pdftest.Builder) {
			b.Stream(4, "", []byte("BT /F1 12 Tf 72 760 Td (QUYET DINH so 99/QD-UBND) Tj ET"))
		}, disallowed: true, want: "object 4 0 modified, used as page content or resources"},
		{name: "page /Contents replaced", level: Annotations, update: func(b *pdftest.Builder) {
			b.Stream(40, "", []byte("BT (fake) Tj ET"))
			b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 40 0 R /Annots [7 0 R 11 0 R]>>")
		}, disallowed: true, want: "page 1 /Contents replaced"},
		{name: "content redefined in an object stream", level: FormFilling, xrefStream: true, update: func(b *pdftest.Builder) {
			b.ObjStm(41, map[uint32]string{5: "<</Type /Font /Subtype /Type1 /BaseFont /Courier>>"})
		}, disallowed: true, want: "redefined in an object stream"},
		{name: "font replaced (shadow replace)", level: FormFilling, update: func(b *pdftest.Builder) {
			b.Obj(5, "<</Type /Font /Subtype /Type1 /BaseFont /Symbol>>")
		}, disallowed: true, want: "object 5 0 modified"},
		{name: "page added", level: Annotations, update: func(b *pdftest.Builder) {
			b.Obj(2, "<</Type /Pages /Kids [3 0 R 42 0 R] /Count 2>>")
			b.Obj(42, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R>>")
		}, disallowed: true, want: "page added"},
		{name: "overlay annotation at form-filling level (shadow hide)", level: FormFilling, update: func(b *pdftest.Builder) {
			b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R /Annots [7 0 R 11 0 R 43 0 R]>>")
			b.Obj(43, "<</Type /Annot /Subtype /FreeText /Rect [72 750 400 780] /Contents (99) /P 3 0 R>>")
		}, disallowed: true, want: "page 1: annotation 43 0 R added"},
		{name: "annotation at level 3", level: Annotations, update: func(b *pdftest.Builder) {
			b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R /Annots [7 0 R 11 0 R 43 0 R]>>")
			b.Obj(43, "<</Type /Annot /Subtype /Text /Rect [72 750 90 770] /Contents (note) /P 3 0 R>>")
		}, want: RuleAnnotsGrow},
		{name: "second signature", level: FormFilling, update: func(b *pdftest.Builder) { addSignature(b, "Sig") }, want: RuleNewSigField},
		{name: "second signature in a certified P=1 document", level: NoChanges, update: func(b *pdftest.Builder) { addSignature(b, "Sig") }, disallowed: true, want: "not a permitted new signature"},
		{name: "document timestamp in a certified P=1 document", level: NoChanges, update: func(b *pdftest.Builder) { addSignature(b, "DocTimeStamp") }, want: RuleSigDict},
		{name: "signature dictionary spoofed", level: Annotations, update: func(b *pdftest.Builder) {
			b.Obj(8, "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] /Contents <00>>>")
		}, disallowed: true, want: "signature dictionary 8 0 redefined"},
		{name: "form filled", level: FormFilling, update: func(b *pdftest.Builder) {
			b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect [72 700 200 720] /P 3 0 R /V (06) /AP <</N 44 0 R>>>>")
			b.Stream(44, "/Type /XObject /Subtype /Form /BBox [0 0 128 20]", []byte("BT (06) Tj ET"))
		}, want: RuleFormFill},
		{name: "form filled but locked", level: FormFilling, locks: []Lock{{Action: "Include", Fields: []string{"SoVanBan"}}}, update: func(b *pdftest.Builder) {
			b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect [72 700 200 720] /P 3 0 R /V (06)>>")
		}, disallowed: true, want: `form field "SoVanBan" /V changed`},
		{name: "form filled at P=1", level: NoChanges, update: func(b *pdftest.Builder) {
			b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect [72 700 200 720] /P 3 0 R /V (06)>>")
		}, disallowed: true, want: `/V changed`},
		{name: "document information updated", level: NoChanges, update: func(b *pdftest.Builder) {
			b.Obj(10, "<</Producer (vanthu test) /ModDate (D:20260312094105+07'00')>>")
		}, want: RuleDocInfo},
		{name: "optional content added to the catalog (shadow hide)", level: Annotations, update: func(b *pdftest.Builder) {
			b.Obj(1, "<</Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /OCProperties <</OCGs [45 0 R] /D <</OFF [45 0 R]>>>>>>")
			b.Obj(45, "<</Type /OCG /Name (x)>>")
		}, disallowed: true, want: "catalog /OCProperties added"},
		{name: "unchanged re-definition", level: NoChanges, update: func(b *pdftest.Builder) {
			b.Obj(5, "<< /Type /Font /BaseFont /Times-Roman /Subtype /Type1 >>")
		}, want: RuleUnchanged},
		{name: "referenced object freed", level: Annotations, update: func(b *pdftest.Builder) { b.Free(5) }, disallowed: true, want: "freed but still referenced"},
		{name: "unreferenced object added", level: NoChanges, update: func(b *pdftest.Builder) { b.Obj(46, "(junk)") }, want: RuleUnreferenced},
		{name: "signature appearance swapped on the signed field", level: FormFilling, update: func(b *pdftest.Builder) {
			b.Stream(9, "/Type /XObject /Subtype /Form /BBox [0 0 0 0]", []byte("BT (approved) Tj ET"))
		}, disallowed: true, want: "appearance of 7 0 R"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := pdftest.Signed()
			tc.update(b)
			if tc.xrefStream {
				b.EndRevisionXrefStream(50)
			} else {
				b.EndRevision()
			}
			f, err := pdf.OpenBytes(b.Bytes(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(f.Revisions()); n != 2 {
				t.Fatalf("%d revisions, want 2", n)
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
			for _, c := range res.Changes {
				if c.Allowed != (c.Rule != "") {
					t.Errorf("change %+v: Allowed must equal having a rule", c)
				}
			}
		})
	}
}

// A second trailer hidden inside the signed revision is reported.
func TestStrayTrailerInSignedRevision(t *testing.T) {
	b := pdftest.New()
	b.Obj(1, "<</Type /Catalog /Pages 2 0 R>>")
	b.Raw("trailer\n<</Root 1 0 R>>\nstartxref\n0\n%%EOF\n")
	b.Obj(2, "<</Type /Pages /Kids [] /Count 0>>")
	b.EndRevision()
	f, err := pdf.OpenBytes(b.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(f, 0, FormFilling, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Disallowed || len(res.Changes) != 1 || !strings.Contains(res.Changes[0].Detail, "hidden trailer") {
		t.Fatalf("got %+v", res)
	}
}

func TestAnalyzeRejectsBadRevision(t *testing.T) {
	b := pdftest.Signed()
	f, err := pdf.OpenBytes(b.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rev := range []int{-1, 1, 5} {
		if _, err := Analyze(f, rev, FormFilling, nil); err == nil {
			t.Errorf("revision %d accepted", rev)
		}
	}
	if res, err := Analyze(f, 0, FormFilling, nil); err != nil || len(res.Changes) != 0 || res.Disallowed {
		t.Errorf("last revision signed: %+v %v", res, err)
	}
}
