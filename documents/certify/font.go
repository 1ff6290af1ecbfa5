package certify

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// textFont sets text in Liberation Serif (metrically Times New Roman, the
// face Decree 30 asks for), embedded as a CID font with a ToUnicode map so
// the Vietnamese text renders in any viewer and pdftotext reads it back.
type textFont struct {
	ttf  []byte
	font *sfnt.Font
	upem int
	buf  sfnt.Buffer
	used map[sfnt.GlyphIndex]rune
}

var (
	parseOnce           sync.Once
	regularTTF, boldTTF *sfnt.Font
	parseErr            error
)

// newFont returns a fresh glyph tracker over the parsed face (parsed once:
// parsing allocates, and package init must not).
func newFont(bold bool) (*textFont, error) {
	parseOnce.Do(func() {
		if regularTTF, parseErr = sfnt.Parse(liberationserifregular.TTF); parseErr != nil {
			return
		}
		boldTTF, parseErr = sfnt.Parse(liberationserifbold.TTF)
	})
	if parseErr != nil {
		return nil, fmt.Errorf("statement font: %w", parseErr)
	}
	f := &textFont{ttf: liberationserifregular.TTF, font: regularTTF, used: map[sfnt.GlyphIndex]rune{}}
	if bold {
		f.ttf, f.font = liberationserifbold.TTF, boldTTF
	}
	f.upem = int(f.font.UnitsPerEm())
	return f, nil
}

// glyph is the glyph of r (a question mark when the face has none) and its
// advance in thousandths of the size.
func (f *textFont) glyph(r rune) (sfnt.GlyphIndex, float64) {
	g, err := f.font.GlyphIndex(&f.buf, r)
	if err != nil || g == 0 {
		r = '?'
		g, _ = f.font.GlyphIndex(&f.buf, r)
	}
	adv, err := f.font.GlyphAdvance(&f.buf, g, fixed.I(f.upem), font.HintingNone)
	if err != nil {
		adv = 0
	}
	f.used[g] = r
	return g, float64(adv) / 64 * 1000 / float64(f.upem)
}

// width is the width of s at size points.
func (f *textFont) width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		_, a := f.glyph(r)
		w += a
	}
	return w * size / 1000
}

// hex is s as a hex string of two-byte glyph codes (Identity-H).
func (f *textFont) hex(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		g, _ := f.glyph(r)
		fmt.Fprintf(&b, "%04X", uint16(g))
	}
	b.WriteByte('>')
	return b.String()
}

// objects returns the bodies of the font's five objects, the Type0 font
// last; ref(i) is how object i of them is referred to.
func (f *textFont) objects(ref func(i int) string, name string) [][]byte {
	gids := make([]int, 0, len(f.used))
	for g := range f.used {
		gids = append(gids, int(g))
	}
	sort.Ints(gids)
	var w, cmap strings.Builder
	w.WriteString("[")
	for _, g := range gids {
		adv, _ := f.font.GlyphAdvance(&f.buf, sfnt.GlyphIndex(g), fixed.I(f.upem), font.HintingNone)
		fmt.Fprintf(&w, " %d [%d]", g, int(float64(adv)/64*1000/float64(f.upem)+0.5))
	}
	w.WriteString(" ]")
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		j := min(i+100, len(gids))
		fmt.Fprintf(&cmap, "%d beginbfchar\n", j-i)
		for _, g := range gids[i:j] {
			fmt.Fprintf(&cmap, "<%04X> <%s>\n", g, utf16Hex(f.used[sfnt.GlyphIndex(g)]))
		}
		cmap.WriteString("endbfchar\n")
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return [][]byte{
		flateStream(fmt.Sprintf("/Length1 %d", len(f.ttf)), f.ttf),
		flateStream("", []byte(cmap.String())),
		[]byte(fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 34 /FontBBox [-543 -303 1278 981] /ItalicAngle 0 /Ascent 891 /Descent -216 /CapHeight 662 /StemV 80 /FontFile2 %s >>", name, ref(0))),
		[]byte(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %s /CIDToGIDMap /Identity /DW 500 /W %s >>", name, ref(2), w.String())),
		[]byte(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%s] /ToUnicode %s >>", name, ref(3), ref(1))),
	}
}

func utf16Hex(r rune) string {
	if r < 0x10000 {
		return fmt.Sprintf("%04X", r)
	}
	r -= 0x10000
	return fmt.Sprintf("%04X%04X", 0xD800+(r>>10), 0xDC00+(r&0x3FF))
}

// flateStream is a stream object body, compressed.
func flateStream(extra string, data []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< %s /Filter /FlateDecode /Length %d >>\nstream\n", extra, z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream")
	return b.Bytes()
}
