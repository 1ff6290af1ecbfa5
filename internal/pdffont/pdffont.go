// Package pdffont owns embedding a TrueType face in the PDFs the service
// writes itself (statements, receipts, register books, verification
// reports): a CID font (Type0, Identity-H, two-byte glyph codes) with the
// glyphs a document used tracked as its text is set, their widths in the
// /W array, a ToUnicode CMap so the text is searched, copied and read back
// (pdftotext) with its Vietnamese diacritics, and the face itself as
// FontFile2. It takes the face's bytes from its caller and imports no font,
// so a binary links only the faces it sets text in.
package pdffont

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Face is a TrueType face to embed, parsed once on first use (parsing
// allocates; a package's init must not).
type Face struct {
	// Name is the PostScript name the PDF gives it (LiberationSerif).
	Name string
	// TTF is the face's file.
	TTF []byte

	once sync.Once
	sf   *sfnt.Font
	err  error
}

// Font starts a new document's use of the face: a fresh tracker of the
// glyphs its text uses.
func (f *Face) Font() (*Font, error) {
	f.once.Do(func() { f.sf, f.err = sfnt.Parse(f.TTF) })
	if f.err != nil {
		return nil, fmt.Errorf("font %s: %w", f.Name, f.err)
	}
	return &Font{face: f, upem: int(f.sf.UnitsPerEm()), used: map[sfnt.GlyphIndex]rune{}, cache: map[rune]glyph{}}, nil
}

// Font sets text in a face for one document and writes the font's objects
// once the text is set. It is not safe for concurrent use.
type Font struct {
	face *Face
	upem int
	buf  sfnt.Buffer
	used map[sfnt.GlyphIndex]rune
	// cache: a document repeats the same few letters.
	cache map[rune]glyph
}

type glyph struct {
	g   sfnt.GlyphIndex
	adv float64
}

// Objects is how many objects Objects returns.
const Objects = 5

// Glyph is r's glyph (a question mark's when the face has none), recorded
// as used, and its advance in thousandths of the size.
func (f *Font) Glyph(r rune) (sfnt.GlyphIndex, float64) {
	if gi, ok := f.cache[r]; ok {
		return gi.g, gi.adv
	}
	in := r
	g, err := f.face.sf.GlyphIndex(&f.buf, r)
	if err != nil || g == 0 {
		r = '?'
		g, _ = f.face.sf.GlyphIndex(&f.buf, r)
	}
	f.used[g] = r
	gi := glyph{g, f.advance(g)}
	f.cache[in] = gi
	return gi.g, gi.adv
}

func (f *Font) advance(g sfnt.GlyphIndex) float64 {
	adv, err := f.face.sf.GlyphAdvance(&f.buf, g, fixed.I(f.upem), font.HintingNone)
	if err != nil {
		return 0
	}
	return float64(adv) / 64 * 1000 / float64(f.upem)
}

// Width is the width of s set at size points.
func (f *Font) Width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		_, a := f.Glyph(r)
		w += a
	}
	return w * size / 1000
}

// Hex is s as a PDF hex string of its two-byte glyph codes, for Tj.
func (f *Font) Hex(s string) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, 2+4*len(s))
	b = append(b, '<')
	for _, r := range s {
		g, _ := f.Glyph(r)
		b = append(b, digits[g>>12&0xf], digits[g>>8&0xf], digits[g>>4&0xf], digits[g&0xf])
	}
	return string(append(b, '>'))
}

// Object is one of the font's objects: a dictionary, or a stream whose
// Dict holds the entries besides its filter and length and whose Data is
// its content, uncompressed (each writer compresses its streams its own
// way).
type Object struct {
	Dict   string
	Data   []byte
	Stream bool
}

// Objects returns the font's objects, in order: the face (FontFile2), the
// ToUnicode CMap, the font descriptor, the CID font, and last the Type0
// font a page's resources name. ref(i) is how the caller refers to object
// i of them ("12 0 R"). The glyphs are those used so far.
func (f *Font) Objects(ref func(i int) string) []Object {
	gids := make([]int, 0, len(f.used))
	for g := range f.used {
		gids = append(gids, int(g))
	}
	sort.Ints(gids)
	var w, cmap strings.Builder
	w.WriteString("[")
	for _, g := range gids {
		fmt.Fprintf(&w, " %d [%d]", g, int(f.advance(sfnt.GlyphIndex(g))+0.5))
	}
	w.WriteString(" ]")
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 { // at most 100 entries a block
		j := min(i+100, len(gids))
		fmt.Fprintf(&cmap, "%d beginbfchar\n", j-i)
		for _, g := range gids[i:j] {
			fmt.Fprintf(&cmap, "<%04X> <%s>\n", g, utf16Hex(f.used[sfnt.GlyphIndex(g)]))
		}
		cmap.WriteString("endbfchar\n")
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	name := f.face.Name
	return []Object{
		{Dict: fmt.Sprintf("/Length1 %d", len(f.face.TTF)), Data: f.face.TTF, Stream: true},
		{Data: []byte(cmap.String()), Stream: true},
		{Dict: fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 34 /FontBBox [-543 -303 1278 981] /ItalicAngle 0 /Ascent 891 /Descent -216 /CapHeight 662 /StemV 80 /FontFile2 %s >>", name, ref(0))},
		{Dict: fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %s /CIDToGIDMap /Identity /DW 500 /W %s >>", name, ref(2), w.String())},
		{Dict: fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%s] /ToUnicode %s >>", name, ref(3), ref(1))},
	}
}

// Bodies returns the objects' bodies (between "n 0 obj" and "endobj"),
// streams compressed with FlateStream.
func (f *Font) Bodies(ref func(i int) string) [][]byte {
	objs := f.Objects(ref)
	out := make([][]byte, len(objs))
	for i, o := range objs {
		if o.Stream {
			out[i] = FlateStream(o.Dict, o.Data)
		} else {
			out[i] = []byte(o.Dict)
		}
	}
	return out
}

// utf16Hex is r in UTF-16BE hex, as a ToUnicode CMap writes it.
func utf16Hex(r rune) string {
	if r < 0x10000 {
		return fmt.Sprintf("%04X", r)
	}
	r -= 0x10000
	return fmt.Sprintf("%04X%04X", 0xD800+(r>>10), 0xDC00+(r&0x3FF))
}

// FlateStream is the body of a stream object holding data compressed,
// with extra entries in its dictionary.
func FlateStream(extra string, data []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data) // a bytes.Buffer does not fail
	zw.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< %s /Filter /FlateDecode /Length %d >>\nstream\n", extra, z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream")
	return b.Bytes()
}
