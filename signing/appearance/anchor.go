package appearance

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/digitorus/pdf"
	"golang.org/x/text/encoding/charmap"
)

// FindAnchor returns the rectangle (PDF user space) covering the first
// occurrence of text on page (1-based), for placing a signature relative
// to it, e.g. above the signer's name typed in the draft. Text is compared
// in NFC with white space collapsed, exactly first and then ignoring case.
//
// digitorus/pdf's own Page.Content cannot be used: it treats Identity-H
// (two-byte) fonts as one-byte, has no CID widths and ignores ToUnicode
// bfchar entries, which is how nearly every Vietnamese PDF (Word, Chrome,
// LibreOffice exports) stores its text. So this file interprets the page
// itself on top of digitorus/pdf's object reader: Type0 fonts with
// Identity-H and ToUnicode, simple fonts (ToUnicode, WinAnsi, MacRoman,
// Differences with uniXXXX names), text matrices, cm and Form XObjects.
// Text it cannot decode (other CMaps, Type3 without ToUnicode) is simply not
// found.
func FindAnchor(r io.ReaderAt, size int64, page int, text string) (Rect, error) {
	d, err := open(r, size, fmt.Sprintf("find anchor %q", text))
	if err != nil {
		return Rect{}, err
	}
	return d.Anchor(page, text)
}

// Anchor is FindAnchor on the parsed PDF.
func (d *Parsed) Anchor(page int, text string) (rect Rect, err error) {
	defer func() {
		if p := recover(); p != nil {
			rect, err = Rect{}, fmt.Errorf("find anchor %q: malformed PDF: %v", text, p)
		}
	}()
	needle := []rune(normalise(text))
	if len(needle) == 0 {
		return Rect{}, errors.New("find anchor: empty anchor text")
	}
	rd := d.rd
	if n := rd.NumPage(); page < 1 || page > n {
		return Rect{}, fmt.Errorf("find anchor %q: page %d outside 1–%d", text, page, n)
	}
	p := rd.Page(page)
	if p.V.IsNull() {
		return Rect{}, fmt.Errorf("find anchor %q: page %d missing", text, page)
	}
	glyphs := pageGlyphs(p)
	hay, owner := searchText(glyphs)
	for _, fold := range []bool{false, true} {
		if i := indexRunes(hay, needle, fold); i >= 0 {
			var out Rect
			first := true
			for _, gi := range owner[i : i+len(needle)] {
				if gi < 0 {
					continue
				}
				b := glyphs[gi].box
				if first {
					out, first = b, false
					continue
				}
				out = Rect{min(out.X1, b.X1), min(out.Y1, b.Y1), max(out.X2, b.X2), max(out.Y2, b.Y2)}
			}
			return out, nil
		}
	}
	return Rect{}, fmt.Errorf("find anchor: %q not found on page %d (%d characters of text decoded there)", normalise(text), page, len(glyphs))
}

// glyph is one decoded character on the page and its box.
type glyph struct {
	text     string
	box      Rect
	baseline float64 // y of the origin, for line changes
	size     float64 // effective font size, for gaps
}

// searchText joins the glyphs into NFC text with single spaces where the
// page shows a space or a gap or a line change, and maps every rune back
// to its glyph (-1 for inserted spaces).
func searchText(gs []glyph) ([]rune, []int) {
	var hay []rune
	var owner []int
	space := func() {
		if len(hay) > 0 && hay[len(hay)-1] != ' ' {
			hay = append(hay, ' ')
			owner = append(owner, -1)
		}
	}
	for i, g := range gs {
		if i > 0 {
			prev := gs[i-1]
			if math.Abs(g.baseline-prev.baseline) > 0.5*g.size || g.box.X1-prev.box.X2 > 0.15*g.size || g.box.X2 < prev.box.X1 {
				space()
			}
		}
		for _, r := range normalise(g.text) {
			if unicode.IsSpace(r) {
				space()
				continue
			}
			hay = append(hay, r)
			owner = append(owner, i)
		}
		if strings.TrimSpace(g.text) == "" && g.text != "" {
			space()
		}
	}
	return hay, owner
}

func indexRunes(hay, needle []rune, fold bool) int {
	eq := func(a, b rune) bool {
		if fold {
			return unicode.ToLower(a) == unicode.ToLower(b)
		}
		return a == b
	}
Outer:
	for i := 0; i+len(needle) <= len(hay); i++ {
		for j, r := range needle {
			if !eq(hay[i+j], r) {
				continue Outer
			}
		}
		return i
	}
	return -1
}

// matrix is a PDF transformation [a b 0; c d 0; e f 1] (row vectors).
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m×n: apply m first, then n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

func matrixOf(args []pdf.Value) (matrix, bool) {
	if len(args) != 6 {
		return identity, false
	}
	var m matrix
	for i, a := range args {
		m[i] = a.Float64()
	}
	return m, true
}

type textState struct {
	ctm            matrix
	tc, tw, th, tl float64
	trise, tfs     float64
	font           *fontInfo
}

// maxFormDepth bounds nested Form XObjects (and breaks reference cycles).
const maxFormDepth = 8

type interp struct {
	glyphs []glyph
	fonts  map[string]*fontInfo // by font dictionary's object, or name
}

// pageGlyphs decodes all text drawn on the page, in content order.
func pageGlyphs(p pdf.Page) []glyph {
	in := &interp{fonts: map[string]*fontInfo{}}
	st := textState{ctm: identity, th: 1}
	contents := p.V.Key("Contents")
	if contents.Kind() == pdf.Array {
		// The streams of an array are one content stream; state carries over.
		for i := 0; i < contents.Len(); i++ {
			in.run(contents.Index(i), p.Resources(), &st, 0)
		}
	} else {
		in.run(contents, p.Resources(), &st, 0)
	}
	return in.glyphs
}

// run interprets one content stream; a malformed stream ends its own
// interpretation without losing what was found before.
func (in *interp) run(strm, res pdf.Value, st *textState, depth int) {
	if strm.Kind() != pdf.Stream || depth > maxFormDepth {
		return
	}
	defer func() { _ = recover() }()
	var stack []textState
	var tm, tlm matrix
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "q":
			stack = append(stack, *st)
		case "Q":
			if len(stack) > 0 {
				*st = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		case "cm":
			if m, ok := matrixOf(args); ok {
				st.ctm = m.mul(st.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tf":
			if len(args) == 2 {
				st.font = in.font(res.Key("Font").Key(args[0].Name()), args[0].Name())
				st.tfs = args[1].Float64()
			}
		case "Tc":
			if len(args) == 1 {
				st.tc = args[0].Float64()
			}
		case "Tw":
			if len(args) == 1 {
				st.tw = args[0].Float64()
			}
		case "Tz":
			if len(args) == 1 {
				st.th = args[0].Float64() / 100
			}
		case "TL":
			if len(args) == 1 {
				st.tl = args[0].Float64()
			}
		case "Ts":
			if len(args) == 1 {
				st.trise = args[0].Float64()
			}
		case "Td", "TD":
			if len(args) == 2 {
				if op == "TD" {
					st.tl = -args[1].Float64()
				}
				tlm = matrix{1, 0, 0, 1, args[0].Float64(), args[1].Float64()}.mul(tlm)
				tm = tlm
			}
		case "Tm":
			if m, ok := matrixOf(args); ok {
				tm, tlm = m, m
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -st.tl}.mul(tlm)
			tm = tlm
		case "Tj", "'", "\"":
			if op == "\"" && len(args) == 3 {
				st.tw, st.tc = args[0].Float64(), args[1].Float64()
				args = args[2:]
			}
			if op != "Tj" {
				tlm = matrix{1, 0, 0, 1, 0, -st.tl}.mul(tlm)
				tm = tlm
			}
			if len(args) == 1 {
				in.show(args[0].RawString(), st, &tm)
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			for i := 0; i < args[0].Len(); i++ {
				x := args[0].Index(i)
				if x.Kind() == pdf.String {
					in.show(x.RawString(), st, &tm)
				} else {
					tx := -x.Float64() / 1000 * st.tfs * st.th
					tm = matrix{1, 0, 0, 1, tx, 0}.mul(tm)
				}
			}
		case "Do":
			if len(args) != 1 {
				return
			}
			xo := res.Key("XObject").Key(args[0].Name())
			if xo.Key("Subtype").Name() != "Form" {
				return
			}
			saved := *st
			if m, ok := matrixOf(arrayValues(xo.Key("Matrix"))); ok {
				st.ctm = m.mul(st.ctm)
			}
			formRes := xo.Key("Resources")
			if formRes.IsNull() {
				formRes = res
			}
			in.run(xo, formRes, st, depth+1)
			*st = saved
		}
	})
}

func arrayValues(v pdf.Value) []pdf.Value {
	out := make([]pdf.Value, v.Len())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

// show records the glyphs of one string operand and advances the text
// matrix.
func (in *interp) show(s string, st *textState, tm *matrix) {
	f := st.font
	if f == nil {
		return
	}
	for _, c := range f.codes(s) {
		w0 := f.width(c.code)
		trm := matrix{st.tfs * st.th, 0, 0, st.tfs, 0, st.trise}.mul(*tm).mul(st.ctm)
		x1, y1 := trm.apply(0, f.descent)
		x2, y2 := trm.apply(w0, f.ascent)
		_, oy := trm.apply(0, 0)
		size := math.Hypot(trm[2], trm[3])
		in.glyphs = append(in.glyphs, glyph{
			text:     c.text,
			box:      Rect{x1, y1, x2, y2}.Canon(),
			baseline: oy,
			size:     size,
		})
		tx := w0*st.tfs + st.tc
		if c.single && c.code == ' ' {
			tx += st.tw
		}
		*tm = matrix{1, 0, 0, 1, tx * st.th, 0}.mul(*tm)
	}
}

// fontInfo is what text extraction needs from a font.
type fontInfo struct {
	twoByte         bool
	toUnicode       map[uint32]string
	simple          [256]rune // base encoding of a simple font
	widths          map[uint32]float64
	defaultWidth    float64 // glyph space / 1000
	ascent, descent float64 // glyph space / 1000
	undecodable     bool    // a CMap we cannot read: decode nothing
}

type code struct {
	code   uint32
	single bool
	text   string
}

func (f *fontInfo) codes(s string) []code {
	var out []code
	if f.twoByte {
		for i := 0; i+1 < len(s); i += 2 {
			c := uint32(s[i])<<8 | uint32(s[i+1])
			out = append(out, code{code: c, text: f.decode(c)})
		}
		return out
	}
	for i := 0; i < len(s); i++ {
		c := uint32(s[i])
		out = append(out, code{code: c, single: true, text: f.decode(c)})
	}
	return out
}

func (f *fontInfo) decode(c uint32) string {
	if f.undecodable {
		return "\uFFFD"
	}
	if t, ok := f.toUnicode[c]; ok {
		return t
	}
	if f.twoByte || c > 255 {
		return "\uFFFD"
	}
	if r := f.simple[c]; r != 0 {
		return string(r)
	}
	return "\uFFFD"
}

func (f *fontInfo) width(c uint32) float64 {
	if w, ok := f.widths[c]; ok {
		return w
	}
	return f.defaultWidth
}

func (in *interp) font(v pdf.Value, name string) *fontInfo {
	key := name
	if p := v.GetPtr(); p.GetID() != 0 {
		key = fmt.Sprintf("%d %d R", p.GetID(), p.GetGen())
	}
	if f, ok := in.fonts[key]; ok {
		return f
	}
	f := loadFont(v)
	in.fonts[key] = f
	return f
}

func loadFont(v pdf.Value) *fontInfo {
	f := &fontInfo{widths: map[uint32]float64{}, defaultWidth: 0.5, ascent: 0.8, descent: -0.2}
	desc := v.Key("FontDescriptor")
	if v.Key("Subtype").Name() == "Type0" {
		enc := v.Key("Encoding")
		f.twoByte = true
		if enc.Kind() != pdf.Name || (enc.Name() != "Identity-H" && enc.Name() != "Identity-V") {
			f.undecodable = true
		}
		cid := v.Key("DescendantFonts").Index(0)
		desc = cid.Key("FontDescriptor")
		f.defaultWidth = 1
		if dw := cid.Key("DW"); !dw.IsNull() {
			f.defaultWidth = dw.Float64() / 1000
		}
		readCIDWidths(cid.Key("W"), f.widths)
	} else {
		first := v.Key("FirstChar").Int64()
		ws := v.Key("Widths")
		for i := 0; i < ws.Len() && i < 256; i++ {
			f.widths[uint32(first)+uint32(i)] = ws.Index(i).Float64() / 1000
		}
		f.simple = simpleEncoding(v.Key("Encoding"))
	}
	if a := desc.Key("Ascent"); !a.IsNull() && a.Float64() != 0 {
		f.ascent = a.Float64() / 1000
	}
	if d := desc.Key("Descent"); !d.IsNull() && d.Float64() != 0 {
		f.descent = d.Float64() / 1000
	}
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		f.toUnicode = readToUnicode(tu)
	}
	return f
}

// readCIDWidths reads a CIDFont W array: c [w1 w2 …] or c1 c2 w.
func readCIDWidths(w pdf.Value, into map[uint32]float64) {
	const maxRange = 1 << 16
	for i := 0; i < w.Len(); {
		c := w.Index(i).Int64()
		if i+1 < w.Len() && w.Index(i+1).Kind() == pdf.Array {
			a := w.Index(i + 1)
			for j := 0; j < a.Len(); j++ {
				into[uint32(c)+uint32(j)] = a.Index(j).Float64() / 1000
			}
			i += 2
			continue
		}
		if i+2 >= w.Len() {
			return
		}
		hi, width := w.Index(i+1).Int64(), w.Index(i+2).Float64()/1000
		for k := c; k <= hi && k-c < maxRange; k++ {
			into[uint32(k)] = width
		}
		i += 3
	}
}

// simpleEncoding returns the code→rune table of a simple font.
func simpleEncoding(enc pdf.Value) [256]rune {
	var t [256]rune
	base := charmap.Windows1252
	name := enc.Name()
	if enc.Kind() == pdf.Dict {
		name = enc.Key("BaseEncoding").Name()
	}
	if name == "MacRomanEncoding" {
		base = charmap.Macintosh
	}
	for i := range t {
		t[i] = base.DecodeByte(byte(i))
	}
	if enc.Kind() != pdf.Dict {
		return t
	}
	d := enc.Key("Differences")
	c := 0
	for i := 0; i < d.Len(); i++ {
		x := d.Index(i)
		switch x.Kind() {
		case pdf.Integer:
			c = int(x.Int64())
		case pdf.Name:
			if c >= 0 && c < 256 {
				t[c] = glyphNameRune(x.Name())
			}
			c++
		}
	}
	return t
}

// glyphNameRune understands the names that carry their code point
// (uniXXXX, uXXXX, single letters and digits' names); others decode to
// nothing, which only means such text cannot be an anchor.
func glyphNameRune(n string) rune {
	switch {
	case len(n) == 1:
		return rune(n[0])
	case n == "space":
		return ' '
	case strings.HasPrefix(n, "uni") && len(n) == 7:
		if v, err := strconv.ParseUint(n[3:], 16, 32); err == nil {
			return rune(v)
		}
	case strings.HasPrefix(n, "u") && len(n) >= 5 && len(n) <= 7:
		if v, err := strconv.ParseUint(n[1:], 16, 32); err == nil {
			return rune(v)
		}
	}
	for i, d := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"} {
		if n == d {
			return rune('0' + i)
		}
	}
	return 0
}

// readToUnicode parses a ToUnicode CMap (bfchar and bfrange sections).
func readToUnicode(strm pdf.Value) (m map[uint32]string) {
	m = map[uint32]string{}
	defer func() { _ = recover() }()
	mark := 0
	var pending []pdf.Value
	take := func(stk *pdf.Stack) []pdf.Value {
		n := stk.Len() - mark
		out := make([]pdf.Value, max(n, 0))
		for i := len(out) - 1; i >= 0; i-- {
			out[i] = stk.Pop()
		}
		return out
	}
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		switch op {
		case "findresource":
			stk.Pop()
			stk.Pop()
			// Any dictionary will do for the following "begin".
			stk.Push(strm.Header())
		case "defineresource":
			stk.Pop()
			v := stk.Pop()
			stk.Pop()
			stk.Push(v)
		case "begincodespacerange", "beginbfchar", "beginbfrange", "begincidrange", "begincidchar", "beginnotdefrange", "beginnotdefchar":
			stk.Pop() // the count
			mark = stk.Len()
		case "endbfchar":
			pending = take(stk)
			for i := 0; i+1 < len(pending); i += 2 {
				m[codeOf(pending[i].RawString())] = utf16String(pending[i+1].RawString())
			}
		case "endbfrange":
			pending = take(stk)
			for i := 0; i+2 < len(pending); i += 3 {
				lo, hi, dst := codeOf(pending[i].RawString()), codeOf(pending[i+1].RawString()), pending[i+2]
				for c := lo; c <= hi && c-lo < 1<<16; c++ {
					if dst.Kind() == pdf.Array {
						if k := int(c - lo); k < dst.Len() {
							m[c] = utf16String(dst.Index(k).RawString())
						}
						continue
					}
					// The last UTF-16 unit increments along the range.
					u := utf16Units(dst.RawString())
					if len(u) > 0 {
						u[len(u)-1] += uint16(c - lo)
					}
					m[c] = string(utf16.Decode(u))
				}
			}
		case "endcodespacerange", "endcidrange", "endcidchar", "endnotdefrange", "endnotdefchar":
			take(stk)
		case "usecmap":
			stk.Pop()
		}
	})
	return m
}

func codeOf(s string) uint32 {
	var c uint32
	for i := 0; i < len(s) && i < 4; i++ {
		c = c<<8 | uint32(s[i])
	}
	return c
}

func utf16Units(s string) []uint16 {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return u
}

func utf16String(s string) string { return string(utf16.Decode(utf16Units(s))) }
