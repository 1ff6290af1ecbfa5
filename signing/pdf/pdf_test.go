package pdf_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/pdf/pdftest"
)

func mustOpen(t *testing.T, data []byte) *pdf.File {
	t.Helper()
	f, err := pdf.OpenBytes(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRevisionsClassicAndXrefStream(t *testing.T) {
	b := pdftest.Signed()
	end0 := b.Len()
	b.Obj(10, "<</Producer (changed)>>")
	b.EndRevision()
	end1 := b.Len()
	b.ObjStm(30, map[uint32]string{5: "<</Type /Font /Subtype /Type1 /BaseFont /Courier>>", 31: "[1 2 3]"})
	b.EndRevisionXrefStream(32)
	f := mustOpen(t, b.Bytes())
	revs := f.Revisions()
	if len(revs) != 3 {
		t.Fatalf("%d revisions", len(revs))
	}
	if revs[0].End != end0 || revs[1].End != end1 || revs[2].End != b.Len() {
		t.Fatalf("ends %d %d %d, want %d %d %d", revs[0].End, revs[1].End, revs[2].End, end0, end1, b.Len())
	}
	if revs[0].XrefStream || revs[1].XrefStream || !revs[2].XrefStream {
		t.Fatalf("xref kinds wrong")
	}
	font := func(rev int) string {
		o, err := f.Get(pdf.Ref{Num: 5}, rev)
		if err != nil {
			t.Fatal(err)
		}
		return string(o.(pdf.Dict).Name("BaseFont"))
	}
	if font(0) != "Times-Roman" || font(1) != "Times-Roman" || font(2) != "Courier" {
		t.Fatalf("object 5 by revision: %s %s %s", font(0), font(1), font(2))
	}
	e := revs[2].Entries[pdf.Ref{Num: 5}]
	if e.InStream == nil || e.InStream.Num != 30 || e.Offset < end1 {
		t.Fatalf("entry for 5 in rev 2: %+v", e)
	}
	if o, _ := f.Get(pdf.Ref{Num: 31}, 1); !pdf.Equal(o, pdf.Null{}, nil) {
		t.Fatalf("object 31 visible before it was written: %v", o)
	}
	if n0, n2 := len(f.Objects(0)), len(f.Objects(2)); n0 != 11 || n2 != 14 {
		t.Fatalf("objects %d %d", n0, n2)
	}
	o, _ := f.Get(pdf.Ref{Num: 4}, 0)
	data, err := f.StreamData(o.(*pdf.Stream), 0)
	if err != nil || !bytes.Contains(data, []byte("QUYET DINH")) {
		t.Fatalf("stream data %q %v", data, err)
	}
	if len(f.Warnings()) != 0 {
		t.Fatalf("warnings on a clean file: %q", f.Warnings())
	}
}

// qpdf writes object streams, xref streams with predictors, and linearized
// files: all must open with the same objects.
func TestQpdfRewrites(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(src, pdftest.Signed().Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--object-streams=generate"}, {"--linearize"}, {"--object-streams=generate", "--linearize"}, {"--qdf"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pdf")
			runQpdf(t, append(args, src, out)...)
			data, _ := os.ReadFile(out)
			f := mustOpen(t, data)
			last := len(f.Revisions()) - 1
			if len(f.Revisions()) != 1 {
				t.Errorf("%d revisions for a freshly written file", len(f.Revisions()))
			}
			found := false
			for _, ref := range f.Objects(last) {
				o, err := f.Get(ref, last)
				if err != nil {
					t.Fatalf("%v: %v", ref, err)
				}
				if d, ok := o.(pdf.Dict); ok && d.Name("Type") == "Sig" {
					found = true
				}
			}
			if !found {
				t.Fatal("signature dictionary not found")
			}
		})
	}
}

func TestHybridFile(t *testing.T) {
	b := pdftest.Signed()
	// An xref stream for object 40 (in an object stream), referenced from a
	// classic table's /XRefStm, as Word and others write.
	b.ObjStm(41, map[uint32]string{40: "(hidden from old readers)"})
	xs := b.Len()
	b.EndRevisionXrefStream(42) // writes its own startxref; fine for the test
	b.Obj(10, "<</Producer (hybrid)>>")
	b.Extra = fmt.Sprintf("/Info 10 0 R /XRefStm %d", xs)
	b.EndRevision()
	f := mustOpen(t, b.Bytes())
	last := len(f.Revisions()) - 1
	o, err := f.Get(pdf.Ref{Num: 40}, last)
	if err != nil || string(o.(pdf.String)) != "hidden from old readers" {
		t.Fatalf("object 40: %v %v", o, err)
	}
}

func TestMalformedFilesFailClearly(t *testing.T) {
	base := pdftest.Signed().Bytes()
	xrefAt := bytes.LastIndex(base, []byte("xref\n0 1"))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "header"},
		{"not a pdf", []byte("hello"), "header"},
		{"truncated", base[:len(base)/2], "startxref"},
		{"startxref beyond the file", bytes.Replace(base, []byte(fmt.Sprintf("startxref\n%d", xrefAt)), []byte("startxref\n99999999"), 1), "outside the file"},
		{"object past its revision", pastEnd(), "outside the revision's bytes"},
		{"absurd W", xrefStreamWith("/W [1 99 2]"), "/W"},
		{"absurd Index", xrefStreamWith("/W [1 4 2] /Index [0 4000000000]"), "xref"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			work := testharness.Work(t, func() { _, err = pdf.OpenBytes(tc.data, nil) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			// Refused before doing what the structure claims (4 billion
			// entries, a 99-byte field, an endless /Prev chain).
			if work.Bytes > hostileWork {
				t.Fatalf("allocated %d bytes refusing it", work.Bytes)
			}
		})
	}
}

func cyclic() []byte {
	b := pdftest.Signed()
	b.Obj(10, "<</Producer (x)>>")
	b.EndRevision()
	data := b.Bytes()
	// Point the second section's /Prev at itself.
	last := bytes.LastIndex(data, []byte("xref\n0 1"))
	i := bytes.LastIndex(data, []byte("/Prev "))
	j := i + bytes.IndexByte(data[i:], '>')
	return append(append(append([]byte{}, data[:i]...), []byte(fmt.Sprintf("/Prev %d", last))...), data[j:]...)
}

func pastEnd() []byte {
	b := pdftest.New()
	b.Obj(1, "<</Type /Catalog /Pages 2 0 R>>")
	b.Obj(2, "<</Type /Pages /Kids [] /Count 0>>")
	data := b.Bytes()
	// Revision 0's table claims object 3 at an offset only written later.
	data = append(data, []byte(fmt.Sprintf("xref\n0 1\n0000000000 65535 f \n1 3\n%010d 00000 n \n%010d 00000 n \n%010d 00000 n \ntrailer\n<</Size 4 /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n",
		bytes.Index(data, []byte("1 0 obj")), bytes.Index(data, []byte("2 0 obj")), len(data)+200, len(data)))...)
	data = append(data, bytes.Repeat([]byte(" "), 200)...)
	return append(data, []byte("3 0 obj\n(late)\nendobj\n")...)
}

func xrefStreamWith(w string) []byte {
	b := pdftest.New()
	b.Obj(1, "<</Type /Catalog>>")
	off := b.Len()
	data := pdftest.Deflate([]byte{1, 0, 0, 0, 9, 0, 0})
	b.Raw(fmt.Sprintf("2 0 obj\n<</Type /XRef /Size 3 %s /Root 1 0 R /Filter /FlateDecode /Length %d>>\nstream\n", w, len(data)))
	b.Raw(string(data))
	b.Raw(fmt.Sprintf("\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off))
	return b.Bytes()
}

// hostileWork bounds what refusing a hostile structure may allocate: a few
// times the file, never what the structure claims.
const hostileWork = 16 << 20

func TestHostileObjects(t *testing.T) {
	bomb := pdftest.Deflate(make([]byte, 64<<20))
	cases := []struct {
		name string
		obj  string
		raw  []byte
		want string
	}{
		{"deep nesting", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), nil, "nested deeper"},
		{"self-referencing length", "", []byte("<</Length 3 0 R>>\nstream\nabc\nendstream"), "refers to itself"},
		{"decompression bomb", "", append(append([]byte(fmt.Sprintf("<</Filter /FlateDecode /Length %d>>\nstream\n", len(bomb))), bomb...), "\nendstream"...), "exceeds"},
		{"unterminated string", "(abc", nil, "unterminated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := pdftest.New()
			b.Obj(1, "<</Type /Catalog /Pages 2 0 R>>")
			b.Obj(2, "<</Type /Pages /Kids [] /Count 0>>")
			if tc.raw != nil {
				b.Obj(3, string(tc.raw))
			} else {
				b.Obj(3, tc.obj)
			}
			b.EndRevision()
			lim := pdf.DefaultLimits()
			lim.MaxStreamBytes = 16 << 20
			f, err := pdf.OpenBytes(b.Bytes(), &lim)
			if err != nil {
				t.Fatal(err)
			}
			work := testharness.Work(t, func() {
				var o pdf.Object
				o, err = f.Get(pdf.Ref{Num: 3}, 0)
				if err == nil {
					if s, ok := o.(*pdf.Stream); ok {
						_, err = f.StreamData(s, 0)
					}
				}
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			// The bomb inflates to 64 MiB and the nesting is 100,000 deep:
			// both are refused at their limit, having allocated little.
			if work.Bytes > hostileWork {
				t.Fatalf("allocated %d bytes refusing it", work.Bytes)
			}
		})
	}
}

func TestWhitespaceSlackIsReported(t *testing.T) {
	data := pdftest.Signed().Bytes()
	// Move startxref one byte early, onto the newline before "xref".
	i := bytes.LastIndex(data, []byte("startxref\n")) + len("startxref\n")
	j := bytes.IndexByte(data[i:], '\n') + i
	off := bytes.LastIndex(data, []byte("\nxref\n"))
	data = append(append(append([]byte{}, data[:i]...), []byte(fmt.Sprint(off))...), data[j:]...)
	f := mustOpen(t, data)
	if w := strings.Join(f.Warnings(), ";"); !strings.Contains(w, "whitespace") {
		t.Fatalf("warnings %q", w)
	}
}

func TestInfiniteLoopCorpusFileFinishes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testharness.SignatureCorpus(t), "esig-dss/pades_infinite_loop.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	var f *pdf.File
	work := testharness.Work(t, func() { f, err = pdf.OpenBytes(data, nil) })
	if err == nil && !strings.Contains(strings.Join(f.Warnings(), ";"), "REPAIRED") {
		t.Fatal("opened a file whose xref offsets point outside it without repairing it")
	}
	if work.Bytes > hostileWork {
		t.Fatalf("allocated %d bytes on a %d-byte file", work.Bytes, len(data))
	}
}

func runQpdf(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("qpdf", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		// qpdf exits 3 for warnings; the output file is still written.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("qpdf %v: %v\n%s", args, err, out)
		}
	}
}

// A later revision whose /Prev chain is cyclic is rebuilt from its own
// objects, as viewers do, and says so; the first revision reads strictly.
func TestCyclicPrevInLaterRevisionIsRepaired(t *testing.T) {
	f := mustOpen(t, cyclic())
	revs := f.Revisions()
	if len(revs) != 2 || revs[0].Repaired != "" || !strings.Contains(revs[1].Repaired, "cyclic /Prev") {
		t.Fatalf("revisions %d, repaired %q / %q", len(revs), revs[0].Repaired, revs[len(revs)-1].Repaired)
	}
	o, err := f.Get(pdf.Ref{Num: 10}, 1)
	if d, ok := o.(pdf.Dict); err != nil || !ok || string(d["Producer"].(pdf.String)) != "x" {
		t.Fatalf("object 10 in the repaired revision: %s %v", pdf.Format(o), err)
	}
	if w := strings.Join(f.Warnings(), ";"); !strings.Contains(w, "REPAIRED: revision 1") {
		t.Fatalf("warnings %q", w)
	}
}

// Damaged cross-reference data of a later revision: a startxref that
// points nowhere, and entries that point at the wrong bytes. Both are
// rebuilt from the revision's own objects; the first revision never is.
func TestDamagedLaterXrefIsRebuilt(t *testing.T) {
	b := pdftest.Signed()
	b.Stream(4, "", []byte("BT /F1 12 Tf 72 760 Td (DA THANH TOAN) Tj ET"))
	b.EndRevision()
	good := b.Bytes()
	startxref := bytes.LastIndex(good, []byte("startxref\n"))
	wrongStart := append(append([]byte{}, good[:startxref]...), []byte("startxref\n12\n%%EOF\n")...)
	// Shift the second section's entry for object 4 by 5 bytes.
	x := bytes.LastIndex(good, []byte("\nxref\n")) + 1
	sec := string(good[x:])
	var entry string
	for _, line := range strings.Split(sec, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), " n") && len(strings.TrimSpace(line)) == 18 {
			entry = line
		}
	}
	var off int
	fmt.Sscanf(entry, "%d", &off)
	wrongOffsets := append(append([]byte{}, good[:x]...), []byte(strings.Replace(sec, entry, fmt.Sprintf("%010d%s", off+5, entry[10:]), 1))...)
	for name, data := range map[string][]byte{"startxref": wrongStart, "offsets": wrongOffsets} {
		t.Run(name, func(t *testing.T) {
			f := mustOpen(t, data)
			revs := f.Revisions()
			if len(revs) != 2 || revs[0].Repaired != "" || revs[1].Repaired == "" {
				t.Fatalf("revisions %d, repaired %q / %q", len(revs), revs[0].Repaired, revs[len(revs)-1].Repaired)
			}
			o, err := f.Get(pdf.Ref{Num: 4}, 1)
			if err != nil {
				t.Fatal(err)
			}
			st, ok := o.(*pdf.Stream)
			if !ok {
				t.Fatalf("object 4: %s", pdf.Format(o))
			}
			if data, _ := f.StreamData(st, 1); !bytes.Contains(data, []byte("DA THANH TOAN")) {
				t.Fatalf("object 4 reads %q", data)
			}
		})
	}
}

// TestObjStmOffsetsOutsideData: offsets in an object stream's header that
// point past its data are errors for the objects they name, never a panic.
func TestObjStmOffsetsOutsideData(t *testing.T) {
	const body = "<<>>\n31\n" // 8 bytes after a 10-byte header
	for _, tc := range []struct {
		name, head string
	}{
		{"next offset past the end", "5 0 31 15 "},
		{"own offset past the end", "5 15 31 0 "},
		{"offsets decreasing", "5 6 31 0 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := pdftest.Signed()
			b.ObjStmRaw(30, []uint32{5, 31}, tc.head, body)
			b.EndRevisionXrefStream(32)
			f := mustOpen(t, b.Bytes())
			last := len(f.Revisions()) - 1
			for _, n := range []uint32{5, 31} {
				f.Get(pdf.Ref{Num: n}, last) // an error or an object; no panic
			}
		})
	}
}
