package pdfupdate

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
)

func need(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: install it with `apt-get install -y %s`", tool, pkg)
	}
}

// variants returns the same small document as a classic xref table and as an
// xref stream with object streams (as qpdf writes it).
func variants(t *testing.T) map[string][]byte {
	t.Helper()
	need(t, "qpdf", "qpdf")
	dir := t.TempDir()
	classic := testpdf.Bytes(testpdf.Options{Pages: 2})
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, classic, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "objstm.pdf")
	if b, err := exec.Command("qpdf", "--object-streams=generate", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v: %s", err, b)
	}
	objstm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// A file whose %%EOF is not followed by an end-of-line.
	noEOL := bytes.TrimRight(classic, "\n")
	return map[string][]byte{"table": classic, "stream": objstm, "no-eol": noEOL}
}

func qpdfCheck(t *testing.T, b []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("qpdf", "--check", p).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("WARNING")) {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	for name, orig := range variants(t) {
		t.Run(name, func(t *testing.T) {
			doc, err := Open(bytes.NewReader(orig), int64(len(orig)))
			if err != nil {
				t.Fatal(err)
			}
			if want := name == "stream"; doc.XRefStream != want {
				t.Fatalf("XRefStream = %v, want %v", doc.XRefStream, want)
			}
			cat, err := doc.Catalog()
			if err != nil {
				t.Fatal(err)
			}
			d, err := DictOf(cat)
			if err != nil {
				t.Fatal(err)
			}
			u := doc.NewUpdate()
			note := u.Add(Dict{"Title": TextString("Quyết định số 05/QĐ-UBND")}.Bytes())
			d["VanthuNote"] = note.String()
			u.Set(doc.Root(), d.Bytes())
			var out bytes.Buffer
			res, err := u.Write(&out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes()[:len(orig)], orig) {
				t.Fatal("original bytes were changed")
			}
			if res.End != int64(out.Len()) {
				t.Fatalf("Result.End %d, file is %d bytes", res.End, out.Len())
			}
			if got := out.Bytes()[res.Offsets[note.Num]:]; !bytes.HasPrefix(got, []byte(note.String()[:len(note.String())-2]+" obj")) {
				t.Fatalf("offset of object %d points at %q", note.Num, got[:20])
			}
			qpdfCheck(t, out.Bytes())

			// A second update on top of the first: the chain of /Prev holds.
			doc2, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if doc2.XRefStream != doc.XRefStream {
				t.Fatal("update changed the cross-reference kind")
			}
			cat2, _ := doc2.Catalog()
			title := cat2.Key("VanthuNote").Key("Title").Text()
			if title != "Quyết định số 05/QĐ-UBND" {
				t.Fatalf("title read back as %q", title)
			}
			u2 := doc2.NewUpdate()
			r2 := u2.Add([]byte("(second)"))
			if r2.Num <= note.Num {
				t.Fatalf("second update reused object number %d", r2.Num)
			}
			var out2 bytes.Buffer
			if _, err := u2.Write(&out2); err != nil {
				t.Fatal(err)
			}
			qpdfCheck(t, out2.Bytes())
			n, err := doc2.NumPages()
			if err != nil || n != 2 {
				t.Fatalf("NumPages = %d, %v", n, err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	need(t, "qpdf", "qpdf")
	good := testpdf.Bytes(testpdf.Options{Pages: 1})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	enc := filepath.Join(dir, "enc.pdf")
	encOwner := filepath.Join(dir, "enc-owner.pdf")
	_ = os.WriteFile(in, good, 0o600)
	if b, err := exec.Command("qpdf", "--encrypt", "u", "o", "256", "--", in, enc).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --encrypt: %v %s", err, b)
	}
	if b, err := exec.Command("qpdf", "--encrypt", "", "o", "256", "--", in, encOwner).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --encrypt: %v %s", err, b)
	}
	encB, _ := os.ReadFile(enc)
	encOwnerB, _ := os.ReadFile(encOwner)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"not a pdf", []byte("hello, this is not a PDF file at all"), ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
		{"no startxref", bytes.Replace(good, []byte("startxref"), []byte("startxre_"), 1), ErrMalformed},
		{"bad xref offset", bytes.Replace(good, []byte("startxref\n"), []byte("startxref\n9"), 1), ErrMalformed},
		{"encrypted with user password", encB, ErrEncrypted},
		{"encrypted, empty user password", encOwnerB, ErrEncrypted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(c.in), int64(len(c.in)))
			if !errors.Is(err, c.want) {
				t.Fatalf("Open = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSerialise(t *testing.T) {
	cases := []struct{ got, want string }{
		{TextString("Ha Noi"), "(Ha Noi)"},
		// NFC Vietnamese: one UTF-16 unit per letter, never raw UTF-8.
		{TextString("Hà Nội"), "<feff004800e00020004e1ed90069>"},
		{TextString("a(b)"), `(a\(b\))`},
		{Name("Sig 1/x"), "/Sig#201#2Fx"},
		{Name("Hà"), "/H#C3#A0"},
		{Real(12.5), "12.5"},
		{Real(3), "3"},
		{Real(-0.00001), "0"},
		{Dict{"Type": "/Sig", "A": "1"}.String(), "<</A 1 /Type /Sig >>"},
		{string(Stream(Dict{}, []byte("q Q"))), "<</Length 3 >>\nstream\nq Q\nendstream"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
