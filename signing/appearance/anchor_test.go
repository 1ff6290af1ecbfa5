package appearance

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/digitorus/pdf"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// testPDF builds a one-page A4 PDF the way Vietnamese office PDFs store
// text: an embedded TrueType font as a Type0/Identity-H font with a
// ToUnicode CMap (Word, Chrome and LibreOffice all do this), plus a simple
// WinAnsi TrueType font, a content stream array, cm scaling, TJ kerning
// and a Form XObject.
type testPDF struct {
	f    *sfnt.Font
	buf  sfnt.Buffer
	upem fixed.Int26_6
	used map[sfnt.GlyphIndex]rune
}

func newTestPDF(t *testing.T) *testPDF {
	t.Helper()
	f, err := sfnt.Parse(liberationserifregular.TTF)
	if err != nil {
		t.Fatalf("parse font: %v", err)
	}
	return &testPDF{f: f, upem: fixed.I(int(f.UnitsPerEm())), used: map[sfnt.GlyphIndex]rune{}}
}

// hex encodes s as Identity-H glyph ids.
func (p *testPDF) hex(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range normalise(s) {
		g, err := p.f.GlyphIndex(&p.buf, r)
		if err != nil || g == 0 {
			t.Fatalf("no glyph for %q", r)
		}
		p.used[g] = r
		fmt.Fprintf(&b, "%04X", g)
	}
	b.WriteByte('>')
	return b.String()
}

func (p *testPDF) width(t *testing.T, g sfnt.GlyphIndex) int {
	adv, err := p.f.GlyphAdvance(&p.buf, g, p.upem, font.HintingNone)
	if err != nil {
		t.Fatalf("advance of glyph %d: %v", g, err)
	}
	return int(float64(adv) / 64 * 1000 / float64(p.upem>>6))
}

func (p *testPDF) build(t *testing.T, streams []string, form string) []byte {
	t.Helper()
	var w, tu strings.Builder
	w.WriteString("[")
	tu.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var entries []string
	for g, r := range p.used {
		fmt.Fprintf(&w, " %d [%d]", g, p.width(t, g))
		u := utf16.Encode([]rune{r})
		var dst strings.Builder
		for _, x := range u {
			fmt.Fprintf(&dst, "%04X", x)
		}
		entries = append(entries, fmt.Sprintf("<%04X> <%s>", g, dst.String()))
	}
	for len(entries) > 0 {
		n := min(len(entries), 100)
		fmt.Fprintf(&tu, "%d beginbfchar\n%s\nendbfchar\n", n, strings.Join(entries[:n], "\n"))
		entries = entries[n:]
	}
	tu.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	w.WriteString(" ]")
	var ansiW strings.Builder
	for c := 32; c <= 126; c++ {
		g, _ := p.f.GlyphIndex(&p.buf, rune(c))
		fmt.Fprintf(&ansiW, " %d", p.width(t, g))
	}
	var m font.Metrics
	m, err := p.f.Metrics(&p.buf, p.upem, font.HintingNone)
	if err != nil {
		t.Fatalf("font metrics: %v", err)
	}
	scale := 1000 / float64(p.upem>>6)
	ascent, descent := int(float64(m.Ascent)/64*scale), -int(float64(m.Descent)/64*scale)

	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 6 0 R /F2 11 0 R >> /XObject << /X1 12 0 R >> >> /Contents [4 0 R 5 0 R] >>",
		stream("", streams[0]),
		stream("", streams[1]),
		"<< /Type /Font /Subtype /Type0 /BaseFont /LiberationSerif /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 8 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /LiberationSerif /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 9 0 R /CIDToGIDMap /Identity /DW 1000 /W " + w.String() + " >>",
		stream("", tu.String()),
		fmt.Sprintf("<< /Type /FontDescriptor /FontName /LiberationSerif /Flags 34 /FontBBox [-600 -300 2000 1000] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight 660 /StemV 80 /FontFile2 10 0 R >>", ascent, descent),
		stream(fmt.Sprintf("/Length1 %d", len(liberationserifregular.TTF)), string(liberationserifregular.TTF)),
		"<< /Type /Font /Subtype /TrueType /BaseFont /LiberationSerif /FirstChar 32 /LastChar 126 /Widths [" + ansiW.String() + " ] /Encoding /WinAnsiEncoding /FontDescriptor 9 0 R >>",
		stream("/Type /XObject /Subtype /Form /BBox [0 0 300 100] /Matrix [1 0 0 1 0 0] /Resources << /Font << /F1 6 0 R >> >>", form),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// officePDF is a page with a Decree 30 header, a signer block and a
// "Nơi nhận" list drawn through a Form XObject.
func officePDF(t *testing.T) []byte {
	p := newTestPDF(t)
	s1 := fmt.Sprintf("BT /F1 12 Tf 72 780 Td [%s -250 %s] TJ ET\nBT /F1 13 Tf 1 0 0 1 360 600 Tm %s Tj ET\n",
		p.hex(t, "ỦY BAN NHÂN"), p.hex(t, "DÂN TỈNH QUẢNG NGÃI"), p.hex(t, "PHÓ CHỦ TỊCH"))
	s2 := fmt.Sprintf("q BT /F1 13 Tf 365 520 Td %s Tj ET Q\nq 0.8 0 0 0.8 30 40 cm BT /F2 11 Tf 100 500 Td (Socialist Republic of Viet Nam) Tj ET Q\nq 1 0 0 1 60 300 cm /X1 Do Q\n",
		p.hex(t, "Trần Đức Thắng"))
	form := fmt.Sprintf("BT /F1 10 Tf 5 20 Td %s Tj ET", p.hex(t, "Nơi nhận: Như trên;"))
	return p.build(t, []string{s1, s2}, form)
}

// pdftotextWords runs pdftotext -bbox and returns page 1's words with
// their boxes converted to PDF user space.
type bboxWord struct {
	text string
	r    Rect
}

func pdftotextWords(t *testing.T, pdfBytes []byte) []bboxWord {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is needed by this test; install it with: apt-get install -y poppler-utils")
	}
	in := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(in, pdfBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-bbox", "-f", "1", "-l", "1", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	pageRe := regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`)
	pm := pageRe.FindSubmatch(out)
	if pm == nil {
		t.Fatalf("pdftotext output has no page:\n%s", out)
	}
	pageH, _ := strconv.ParseFloat(string(pm[2]), 64)
	re := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
	var words []bboxWord
	for _, m := range re.FindAllSubmatch(out, -1) {
		f := func(i int) float64 { v, _ := strconv.ParseFloat(string(m[i]), 64); return v }
		words = append(words, bboxWord{html.UnescapeString(string(m[5])), Rect{f(1), pageH - f(4), f(3), pageH - f(2)}})
	}
	return words
}

// wordsRect is the union of the consecutive words that spell anchor.
func wordsRect(words []bboxWord, anchor string) (Rect, bool) {
	want := strings.ReplaceAll(normalise(anchor), " ", "")
	for i := range words {
		got := ""
		r := words[i].r
		for j := i; j < len(words) && len(got) < len(want); j++ {
			got += normalise(words[j].text)
			w := words[j].r
			r = Rect{min(r.X1, w.X1), min(r.Y1, w.Y1), max(r.X2, w.X2), max(r.Y2, w.Y2)}
			if got == want {
				return r, true
			}
		}
	}
	return Rect{}, false
}

func TestFindAnchorMatchesPdftotext(t *testing.T) {
	doc := officePDF(t)
	words := pdftotextWords(t, doc)
	for _, tc := range []struct {
		name, anchor, poppler string
	}{
		{"Type0 Identity-H, Tj", "Trần Đức Thắng", ""},
		{"title in capitals", "PHÓ CHỦ TỊCH", ""},
		{"TJ with a kerning gap as the word break", "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", ""},
		{"part of a line", "QUẢNG NGÃI", ""},
		{"decomposed (NFD) anchor text", "Tra\u0302\u0300n \u0110u\u031b\u0301c Tha\u0306\u0301ng", "Trần Đức Thắng"},
		{"case-insensitive fallback", "phó chủ tịch", "PHÓ CHỦ TỊCH"},
		{"Form XObject under cm", "Nơi nhận:", ""},
		{"simple WinAnsi font scaled by cm", "Republic of Viet", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindAnchor(bytes.NewReader(doc), int64(len(doc)), 1, tc.anchor)
			if err != nil {
				t.Fatalf("FindAnchor: %v", err)
			}
			ref := tc.poppler
			if ref == "" {
				ref = tc.anchor
			}
			want, ok := wordsRect(words, ref)
			if !ok {
				t.Fatalf("pdftotext did not find %q in %v", ref, words)
			}
			const tolX, tolY = 1.0, 2.0
			if d := max(abs(got.X1-want.X1), abs(got.X2-want.X2)); d > tolX {
				t.Errorf("x: got %v, pdftotext %v (off by %.2f pt)", got, want, d)
			}
			if d := max(abs(got.Y1-want.Y1), abs(got.Y2-want.Y2)); d > tolY {
				t.Errorf("y: got %v, pdftotext %v (off by %.2f pt)", got, want, d)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestFindAnchorErrors(t *testing.T) {
	doc := officePDF(t)
	for _, tc := range []struct {
		name   string
		data   []byte
		page   int
		anchor string
		want   string
	}{
		{"absent text", doc, 1, "Nguyễn Văn An", "not found on page 1"},
		{"diacritics matter", doc, 1, "Tran Duc Thang", "not found"},
		{"page out of range", doc, 2, "Trần Đức Thắng", "page 2 outside 1–1"},
		{"page zero", doc, 0, "Trần", "outside"},
		{"empty anchor", doc, 1, "  ", "empty anchor"},
		{"not a PDF", []byte("hello, world"), 1, "Trần", "open PDF"},
		{"truncated PDF", doc[:len(doc)/3], 1, "Trần", "find anchor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FindAnchor(bytes.NewReader(tc.data), int64(len(tc.data)), tc.page, tc.anchor)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadToUnicodeRanges(t *testing.T) {
	// A bfrange with a string destination increments the last UTF-16 unit;
	// one with an array maps code by code.
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
		"2 beginbfrange\n<0010> <0012> <0041>\n<0020> <0021> [<1EBF> <0111>]\nendbfrange\n1 beginbfchar <0005> <00540068> endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end"
	// The form XObject's stream carries the CMap under test.
	raw := newTestPDF(t).build(t, []string{"", ""}, cmap)
	rd, err := pdf.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	m := readToUnicode(rd.Page(1).Resources().Key("XObject").Key("X1"))
	want := map[uint32]string{0x10: "A", 0x11: "B", 0x12: "C", 0x20: "ế", 0x21: "đ", 0x05: "Th"}
	for c, s := range want {
		if m[c] != s {
			t.Errorf("code %04X → %q, want %q", c, m[c], s)
		}
	}
	if len(m) != len(want) {
		t.Errorf("got %d mappings, want %d: %v", len(m), len(want), m)
	}
}
