package verify

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// WritePDF writes the reports as a PDF an auditor can file. The text is set
// in Liberation Serif (metric-compatible with Times New Roman, full
// Vietnamese coverage) embedded as a CID font with a ToUnicode map, so the
// diacritics render everywhere and the text can be searched and copied.
func WritePDF(w io.Writer, reps []*Report, lang Lang, at time.Time) error {
	fnt, err := sfnt.Parse(liberationserifregular.TTF)
	if err != nil {
		return fmt.Errorf("report font: %w", err)
	}
	pw := &pdfWriter{font: fnt, upem: int(fnt.UnitsPerEm()), used: map[sfnt.GlyphIndex]rune{}}
	var lines []string
	lines = append(lines, "#"+lang.t("title"))
	lines = append(lines, lang.t("checked_at")+": "+at.In(vnZone).Format(time.RFC3339))
	for _, r := range reps {
		lines = append(lines, "")
		lines = append(lines, "#"+lang.t("verdict")+": "+lang.t(string(r.Verdict)))
		lines = append(lines, Lines(r, lang)...)
	}
	return pw.write(w, lines)
}

type pdfWriter struct {
	font *sfnt.Font
	upem int
	buf  sfnt.Buffer
	used map[sfnt.GlyphIndex]rune
}

const (
	pageW, pageH = 595.0, 842.0
	margin       = 50.0
	fontSize     = 10.0
	titleSize    = 13.0
	leading      = 13.5
)

func (p *pdfWriter) glyph(r rune) (sfnt.GlyphIndex, float64) {
	g, err := p.font.GlyphIndex(&p.buf, r)
	if err != nil || g == 0 {
		g, _ = p.font.GlyphIndex(&p.buf, '?')
		r = '?'
	}
	adv, err := p.font.GlyphAdvance(&p.buf, g, fixed.I(p.upem), font.HintingNone)
	if err != nil {
		adv = 0
	}
	p.used[g] = r
	return g, float64(adv) / 64 * 1000 / float64(p.upem)
}

// wrap splits a line to fit the text width at the given size.
func (p *pdfWriter) wrap(s string, size float64) []string {
	max := (pageW - 2*margin) * 1000 / size
	var out []string
	var cur []rune
	width := 0.0
	lastSpace := -1
	for _, r := range s {
		if r == '\t' {
			r = ' '
		}
		_, adv := p.glyph(r)
		if width+adv > max && len(cur) > 0 {
			if lastSpace > 0 {
				out = append(out, string(cur[:lastSpace]))
				cur = append([]rune("    "), cur[lastSpace+1:]...)
			} else {
				out = append(out, string(cur))
				cur = []rune("    ")
			}
			width = 0
			for _, c := range cur {
				_, a := p.glyph(c)
				width += a
			}
			lastSpace = -1
		}
		if r == ' ' {
			lastSpace = len(cur)
		}
		cur = append(cur, r)
		width += adv
	}
	return append(out, string(cur))
}

func (p *pdfWriter) hexText(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		g, _ := p.glyph(r)
		fmt.Fprintf(&b, "%04X", uint16(g))
	}
	b.WriteByte('>')
	return b.String()
}

func (p *pdfWriter) write(w io.Writer, lines []string) error {
	// Lay out pages.
	var pages []string
	var cs strings.Builder
	y := pageH - margin
	newPage := func() {
		if cs.Len() > 0 {
			pages = append(pages, cs.String())
		}
		cs.Reset()
		y = pageH - margin
	}
	for _, l := range lines {
		size := fontSize
		if strings.HasPrefix(l, "#") {
			l, size = l[1:], titleSize
		}
		for _, part := range p.wrap(l, size) {
			if y < margin+leading {
				newPage()
			}
			y -= leading
			if size > fontSize {
				y -= 3
			}
			fmt.Fprintf(&cs, "BT /F1 %.1f Tf %.2f %.2f Td %s Tj ET\n", size, margin, y, p.hexText(part))
		}
	}
	newPage()

	var out bytes.Buffer
	var offsets []int
	obj := func(body string) int {
		offsets = append(offsets, out.Len())
		n := len(offsets)
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", n, body)
		return n
	}
	stream := func(dict string, data []byte) int {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		offsets = append(offsets, out.Len())
		n := len(offsets)
		fmt.Fprintf(&out, "%d 0 obj\n<< %s /Filter /FlateDecode /Length %d >>\nstream\n", n, dict, z.Len())
		out.Write(z.Bytes())
		out.WriteString("\nendstream\nendobj\n")
		return n
	}
	out.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	// Objects 1 and 2 are the catalog and the page tree, written first with
	// forward references fixed by construction.
	catalog := obj("<< /Type /Catalog /Pages 2 0 R >>")
	_ = catalog
	pagesIdx := len(offsets)
	offsets = append(offsets, 0) // placeholder for 2 0 obj, written last
	fontFile := stream(fmt.Sprintf("/Length1 %d", len(liberationserifregular.TTF)), liberationserifregular.TTF)

	gids := make([]int, 0, len(p.used))
	for g := range p.used {
		gids = append(gids, int(g))
	}
	sort.Ints(gids)
	var wArr, cmap strings.Builder
	wArr.WriteString("[")
	for _, g := range gids {
		adv, _ := p.font.GlyphAdvance(&p.buf, sfnt.GlyphIndex(g), fixed.I(p.upem), font.HintingNone)
		fmt.Fprintf(&wArr, " %d [%d]", g, int(float64(adv)/64*1000/float64(p.upem)+0.5))
	}
	wArr.WriteString(" ]")
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		j := min(i+100, len(gids))
		fmt.Fprintf(&cmap, "%d beginbfchar\n", j-i)
		for _, g := range gids[i:j] {
			r := p.used[sfnt.GlyphIndex(g)]
			u := utf16Hex(r)
			fmt.Fprintf(&cmap, "<%04X> <%s>\n", g, u)
		}
		cmap.WriteString("endbfchar\n")
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	toUni := stream("", []byte(cmap.String()))
	desc := obj(fmt.Sprintf("<< /Type /FontDescriptor /FontName /LiberationSerif /Flags 34 /FontBBox [-543 -303 1278 981] /ItalicAngle 0 /Ascent 891 /Descent -216 /CapHeight 662 /StemV 80 /FontFile2 %d 0 R >>", fontFile))
	cid := obj(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /LiberationSerif /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 500 /W %s >>", desc, wArr.String()))
	type0 := obj(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /LiberationSerif /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cid, toUni))
	var kids []string
	for _, c := range pages {
		content := stream("", []byte(c))
		pg := obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.0f %.0f] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pageW, pageH, type0, content))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	offsets[pagesIdx] = out.Len()
	fmt.Fprintf(&out, "2 0 obj\n<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n", strings.Join(kids, " "), len(kids))
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	_, err := w.Write(out.Bytes())
	return err
}

func utf16Hex(r rune) string {
	if r < 0x10000 {
		return fmt.Sprintf("%04X", r)
	}
	r -= 0x10000
	return fmt.Sprintf("%04X%04X", 0xd800+(r>>10), 0xdc00+(r&0x3ff))
}
