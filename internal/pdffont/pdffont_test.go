package pdffont

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"

	"github.com/vanthu/vanthu/internal/testharness"
)

var (
	regular = Face{Name: "LiberationSerif", TTF: liberationserifregular.TTF}
	bold    = Face{Name: "LiberationSerif-Bold", TTF: liberationserifbold.TTF}
)

// onePage is a one-page PDF with the lines set in f (regular) and b (bold),
// its objects written from Bodies.
func onePage(t *testing.T, lines []string) []byte {
	t.Helper()
	f, err := regular.Font()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bold.Font()
	if err != nil {
		t.Fatal(err)
	}
	var cs strings.Builder
	for i, l := range lines {
		font, res := f, "F1"
		if i == 0 {
			font, res = b, "F2"
		}
		fmt.Fprintf(&cs, "BT /%s 12 Tf 50 %d Td %s Tj ET\n", res, 780-20*i, font.Hex(l))
	}
	// 1 catalog, 2 pages, 3 page, 4 content, 5–9 regular, 10–14 bold.
	var out bytes.Buffer
	offsets := make([]int, 15)
	obj := func(n int, body []byte) {
		offsets[n] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	out.WriteString("%PDF-1.7\n")
	obj(1, []byte("<< /Type /Catalog /Pages 2 0 R >>"))
	obj(2, []byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"))
	obj(3, []byte("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 9 0 R /F2 14 0 R >> >> /Contents 4 0 R >>"))
	obj(4, FlateStream("", []byte(cs.String())))
	for i, body := range f.Bodies(func(i int) string { return fmt.Sprintf("%d 0 R", 5+i) }) {
		obj(5+i, body)
	}
	for i, body := range b.Bodies(func(i int) string { return fmt.Sprintf("%d 0 R", 10+i) }) {
		obj(10+i, body)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 15\n0000000000 65535 f \n")
	for _, o := range offsets[1:] {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size 15 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes()
}

// TestReadBack: Vietnamese set in the embedded faces is read back by
// pdftotext letter for letter, diacritics and all, in both faces.
func TestReadBack(t *testing.T) {
	lines := []string{
		"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
		"Chứng thực bản sao đúng với bản chính.",
		"Số chứng thực 12, quyển số 01/2026-SCTĐT/BS",
		"Ủy ban nhân dân xã An Bình – Đỗ Văn Thực",
	}
	pdf := onePage(t, lines)
	path := filepath.Join(t.TempDir(), "text.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	out, err := exec.Command(pdftotext, "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, l := range lines {
		if !strings.Contains(string(out), l) {
			t.Errorf("read back lacks %q:\n%s", l, out)
		}
	}
	pdffonts := testharness.Tool(t, "pdffonts", "poppler-utils")
	fonts, err := exec.Command(pdffonts, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v\n%s", err, fonts)
	}
	for _, name := range []string{"LiberationSerif ", "LiberationSerif-Bold"} {
		if !strings.Contains(string(fonts), name) || strings.Count(string(fonts), "CID TrueType") != 2 {
			t.Errorf("pdffonts does not list %q as an embedded CID TrueType font:\n%s", name, fonts)
		}
	}
}

// TestGlyphs: a rune the face lacks is set as a question mark (and maps
// back to one); widths scale with the size; the /W array and the CMap
// hold exactly the glyphs used; code points past the BMP are written as
// UTF-16 surrogate pairs.
func TestGlyphs(t *testing.T) {
	f, err := regular.Font()
	if err != nil {
		t.Fatal(err)
	}
	q, _ := f.Glyph('?')
	if g, adv := f.Glyph('\uE000'); g != q || adv <= 0 {
		t.Fatalf("a private-use rune: glyph %d (question mark %d), advance %v", g, q, adv)
	}
	if w10, w20 := f.Width("Việt", 10), f.Width("Việt", 20); w10 <= 0 || w20 != 2*w10 {
		t.Fatalf("widths %v at 10 pt, %v at 20 pt", w10, w20)
	}
	a, _ := f.Glyph('A')
	if got := f.Hex("A"); got != fmt.Sprintf("<%04X>", a) {
		t.Fatalf("Hex(A) = %s, glyph %d", got, a)
	}
	objs := f.Objects(func(i int) string { return fmt.Sprintf("%d 0 R", 100+i) })
	if len(objs) != Objects || !objs[0].Stream || !objs[1].Stream || objs[4].Stream {
		t.Fatalf("objects %+v", objs)
	}
	cmap := string(objs[1].Data)
	// ?, V, i, ệ, t, A: six glyphs (and the codespace range's line).
	if n := strings.Count(cmap, "\n<") - 1; n != 6 || !strings.Contains(cmap, fmt.Sprintf("<%04X> <0041>", a)) || !strings.Contains(cmap, "<1EC7>") {
		t.Fatalf("CMap of %d entries:\n%s", n, cmap)
	}
	if !strings.Contains(objs[3].Dict, fmt.Sprintf(" %d [", a)) || !strings.Contains(objs[4].Dict, "/DescendantFonts [103 0 R] /ToUnicode 101 0 R") {
		t.Fatalf("fonts: %s / %s", objs[3].Dict, objs[4].Dict)
	}
	for r, want := range map[rune]string{'A': "0041", 'ệ': "1EC7", 0x1F600: "D83DDE00"} {
		if got := utf16Hex(r); got != want {
			t.Errorf("utf16Hex(%U) = %s, want %s", r, got, want)
		}
	}
	if _, err := (&Face{Name: "Broken", TTF: []byte("not a font")}).Font(); err == nil {
		t.Fatal("a broken face parsed")
	}
}
