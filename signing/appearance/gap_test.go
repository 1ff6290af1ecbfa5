package appearance

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
)

func TestFindSignatureGapInDrafts(t *testing.T) {
	cases := []struct {
		file, name string
	}{
		{"qd-chu-tich.pdf", "Nguyễn Văn An"},
		{"qd-kt-pho-chu-tich.pdf", "Trần Thị Bình"},
		{"qd-kt-pho-chu-tich.pdf", "trần thị bình"},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(testharness.Drafts(t), c.file))
			if err != nil {
				t.Fatal(err)
			}
			g, err := FindSignatureGap(bytes.NewReader(b), int64(len(b)), c.name, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", g)
			if g.Page != 1 || g.Title == (Rect{}) {
				t.Fatalf("gap %+v: want page 1 under a printed title", g)
			}
			if !(g.Rect.Y1 > g.Name.Y2 && g.Rect.Y2 < g.Title.Y1 && g.Rect.H() > 40) {
				t.Fatalf("gap %s not between name %s and title %s", g.Rect, g.Name, g.Title)
			}
		})
	}
}

func TestFindSignatureGapRefusals(t *testing.T) {
	pdfOf := func(o testpdf.Options) []byte { return testpdf.Bytes(o) }
	block := []textLine{{350, 300, "CHU TICH"}, {360, 200, "Nguyen Van An"}}
	cases := []struct {
		name string
		pdf  []byte
		who  string
		want error
	}{
		{"missing", pdfOf(testpdf.Options{Pages: 2, Text: "QUYET DINH"}), "Nguyen Van An", ErrNameNotFound},
		{"only in running text", linesPDF([][]textLine{{{72, 700, "Giao ong Nguyen Van An thuc hien."}}}), "Nguyen Van An", ErrNameNotFound},
		{"two blocks on the last page", linesPDF([][]textLine{append(block, textLine{100, 200, "Nguyen Van An"})}), "Nguyen Van An", ErrNameAmbiguous},
		{"no room under the title", linesPDF([][]textLine{{{350, 214, "CHU TICH"}, {360, 200, "Nguyen Van An"}}}), "Nguyen Van An", ErrNameNotFound},
		{"empty name", linesPDF([][]textLine{block}), "  ", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := FindSignatureGap(bytes.NewReader(c.pdf), int64(len(c.pdf)), c.who, 0)
			if c.want == nil && err != nil {
				return
			}
			if err == nil || !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

// TestFindSignatureGapPrefersTheLastPage: the signature block is on the last
// page; a name standing alone on an earlier page (a list of members, say) is
// not where the signature goes, and the running text of the last page does
// not count.
func TestFindSignatureGapPrefersTheLastPage(t *testing.T) {
	pages := [][]textLine{
		{{100, 500, "Nguyen Van An"}, {100, 480, "Tran Thi Binh"}},
		{{72, 700, "Giao ong Nguyen Van An thuc hien."}, {350, 300, "TM. UY BAN NHAN DAN"}, {370, 285, "CHU TICH"}, {100, 285, "Noi nhan:"}, {360, 200, "Nguyen Van An"}},
		{},
	}
	pages[2] = nil
	b := linesPDF(pages[:2])
	g, err := FindSignatureGap(bytes.NewReader(b), int64(len(b)), "Nguyen Van An", 0)
	if err != nil {
		t.Fatal(err)
	}
	if g.Page != 2 || g.Name.Y1 < 195 || g.Name.Y1 > 205 {
		t.Fatalf("found %+v, want the block at the foot of page 2", g)
	}
	if g.Title.Y1 < 280 || g.Title.Y1 > 290 || g.Rect.Y2 > g.Title.Y1 || g.Rect.Y1 < g.Name.Y2 {
		t.Fatalf("gap %s not between the name %s and the title %s", g.Rect, g.Name, g.Title)
	}
	// "Nơi nhận" in the left column is not the title.
	if g.Title.X1 < 300 {
		t.Fatalf("title %s taken from the other column", g.Title)
	}
	// Restricted to page 1, the name stands alone there.
	if g, err := FindSignatureGap(bytes.NewReader(b), int64(len(b)), "Nguyen Van An", 1); err != nil || g.Page != 1 {
		t.Fatalf("page 1: %+v %v", g, err)
	}
}

type textLine struct {
	x, y float64
	text string
}

// linesPDF writes a PDF of A4 pages showing ASCII lines in Helvetica at the
// given positions.
func linesPDF(pages [][]textLine) []byte {
	var objs []string
	n := len(pages)
	// 1 catalog, 2 pages, 3 font, then page i at 4+2i, its content at 5+2i.
	kids := ""
	for i := range pages {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	objs = append(objs, "<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, n),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i, lines := range pages {
		var c strings.Builder
		for _, l := range lines {
			fmt.Fprintf(&c, "BT /F1 12 Tf %.1f %.1f Td (%s) Tj ET\n", l.x, l.y, l.text)
		}
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", c.Len(), c.String()))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}
