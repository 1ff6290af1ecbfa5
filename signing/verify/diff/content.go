package diff

import (
	"math"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Box is a rectangle in default user space: x1 <= x2, y1 <= y2.
type Box struct{ X1, Y1, X2, Y2 float64 }

func (b Box) overlaps(c Box) bool {
	const eps = 0.5 // points: touching edges and rounding do not count
	return math.Min(b.X2, c.X2)-math.Max(b.X1, c.X1) > eps && math.Min(b.Y2, c.Y2)-math.Max(b.Y1, c.Y1) > eps
}

func (b Box) empty() bool { return b.X2-b.X1 <= 0 || b.Y2-b.Y1 <= 0 }

// Limits of the content analysis: a hostile page costs bounded work, and a
// page whose content cannot be measured within them counts as covering
// its whole media box (nothing may then be laid over it).
const (
	maxContentOps   = 500_000
	maxTokens       = 5_000_000 // over every stream run, forms drawn again included
	maxContentBoxes = 50_000
	maxFormDepth    = 8
)

type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n (apply m first, then n), as PDF concatenates.
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

// box maps the rectangle (x1,y1)-(x2,y2) through m and bounds the result.
func (m matrix) box(x1, y1, x2, y2 float64) Box {
	b := Box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range [][2]float64{{x1, y1}, {x2, y1}, {x1, y2}, {x2, y2}} {
		x, y := m.apply(p[0], p[1])
		b.X1, b.Y1, b.X2, b.Y2 = math.Min(b.X1, x), math.Min(b.Y1, y), math.Max(b.X2, x), math.Max(b.Y2, y)
	}
	return b
}

// font is what the measurement needs of a font: code width and widths.
type font struct {
	twoByte bool
	widths  map[int]float64 // glyph space units (1/1000 em)
	dflt    float64
	// program is the embedded TrueType program of a Type0 font whose CIDs
	// are its glyph indices (CIDToGIDMap /Identity), nil otherwise; it
	// tells the glyphs that draw no ink (the spaces of a printed blank
	// such as "Số:    /QĐ-UBND") from those that do.
	program *sfnt.Font
	blank   map[int]bool
}

// inkless says whether code draws nothing in f: its glyph in the embedded
// program has no outline. Only then does the glyph cover nothing; a font
// the measure cannot read counts every glyph as ink, and what decides is
// the outline, never what the font says the glyph means (a space by
// ToUnicode that draws a letter still covers).
func (f *font) inkless(code int) bool {
	if f.program == nil || code < 0 || code >= f.program.NumGlyphs() {
		return false
	}
	if b, ok := f.blank[code]; ok {
		return b
	}
	b := loadsNoOutline(f.program, code)
	if len(f.blank) < 65536 {
		f.blank[code] = b
	}
	return b
}

func (f *font) width(code int) float64 {
	if w, ok := f.widths[code]; ok {
		return w
	}
	return f.dflt
}

type gstate struct {
	ctm      matrix
	fill     []float64 // non-stroking colour components, nil when not a plain gray/RGB/CMYK
	fillCMYK bool
}

type textState struct {
	tm, tlm                  matrix
	font                     *font
	size, tc, tw, th, tl, rs float64
}

// contentMeasure computes the bounding boxes of what a page draws: glyphs
// (from the fonts' widths), images, and painted paths that are not white.
type contentMeasure struct {
	v        *view
	boxes    []Box
	ops      int
	tokens   int
	overflow bool
	fonts    map[pdf.Ref]*font
	forms    map[pdf.Ref][]byte // decoded form XObjects, decoded once per page
}

// pageContent returns the boxes of what page draws in view v, and false if
// the page could not be measured within the limits.
func (v *view) pageContent(page pdf.Ref) ([]Box, bool) {
	if v.content == nil {
		v.content = map[pdf.Ref]contentResult{}
	}
	if r, ok := v.content[page]; ok {
		return r.boxes, r.ok
	}
	m := &contentMeasure{v: v, fonts: map[pdf.Ref]*font{}, forms: map[pdf.Ref][]byte{}}
	d := v.dictOf(page)
	res := v.inherited(page, "Resources")
	var data []byte
	switch c := v.get(d["Contents"]).(type) {
	case *pdf.Stream:
		data, _ = v.f.StreamData(c, v.rev)
	case pdf.Array:
		for _, e := range c {
			if st, ok := v.get(e).(*pdf.Stream); ok {
				b, err := v.f.StreamData(st, v.rev)
				if err != nil {
					m.overflow = true
					break
				}
				data = append(append(data, b...), '\n')
			}
		}
	}
	m.run(data, v.dictOf(res), identity, 0)
	r := contentResult{boxes: m.boxes, ok: !m.overflow}
	v.content[page] = r
	return r.boxes, r.ok
}

type contentResult struct {
	boxes []Box
	ok    bool
}

// inherited reads an inheritable page attribute (Resources, MediaBox).
func (v *view) inherited(page pdf.Ref, key pdf.Name) pdf.Object {
	var o pdf.Object = page
	for depth := 0; depth < 32 && o != nil; depth++ {
		d := v.dictOf(o)
		if d == nil {
			return nil
		}
		if val, ok := d[key]; ok {
			return val
		}
		o = d["Parent"]
	}
	return nil
}

func (m *contentMeasure) add(b Box) {
	if b.empty() || math.IsInf(b.X1, 0) || math.IsNaN(b.X1) || math.IsNaN(b.Y1) || math.IsNaN(b.X2) || math.IsNaN(b.Y2) {
		return
	}
	if len(m.boxes) >= maxContentBoxes {
		m.overflow = true
		return
	}
	m.boxes = append(m.boxes, b)
}

func (m *contentMeasure) font(res pdf.Dict, name pdf.Name) *font {
	fd := m.v.dictOf(res["Font"])
	o := fd[name]
	ref, isRef := o.(pdf.Ref)
	if isRef {
		if f, ok := m.fonts[ref]; ok {
			return f
		}
	}
	f := &font{dflt: 500, widths: map[int]float64{}}
	d := m.v.dictOf(o)
	if d.Name("Subtype") == "Type0" {
		f.twoByte = true
		f.dflt = 1000
		if ds, ok := m.v.get(d["DescendantFonts"]).(pdf.Array); ok && len(ds) > 0 {
			dd := m.v.dictOf(ds[0])
			f.program = m.trueTypeProgram(dd)
			f.blank = map[int]bool{}
			if dw, ok := num(m.v.get(dd["DW"])); ok {
				f.dflt = dw
			}
			w, _ := m.v.get(dd["W"]).(pdf.Array)
			for i := 0; i+1 < len(w) && i < 100_000; {
				first, ok := num(m.v.get(w[i]))
				if !ok {
					break
				}
				if arr, ok := m.v.get(w[i+1]).(pdf.Array); ok {
					for j, e := range arr {
						if x, ok := num(m.v.get(e)); ok && j < 65536 {
							f.widths[int(first)+j] = x
						}
					}
					i += 2
					continue
				}
				if i+2 >= len(w) {
					break
				}
				last, ok1 := num(m.v.get(w[i+1]))
				x, ok2 := num(m.v.get(w[i+2]))
				if ok1 && ok2 && last >= first && last-first < 65536 {
					for c := int(first); c <= int(last); c++ {
						f.widths[c] = x
					}
				}
				i += 3
			}
		}
	} else if ws, ok := m.v.get(d["Widths"]).(pdf.Array); ok {
		first, _ := num(m.v.get(d["FirstChar"]))
		for j, e := range ws {
			if x, ok := num(m.v.get(e)); ok && j < 256 {
				f.widths[int(first)+j] = x
			}
		}
	}
	if isRef {
		m.fonts[ref] = f
	}
	return f
}

// loadsNoOutline says whether glyph gid of p has no outline; a glyph the
// font program cannot give (an error, or a panic on a hostile program)
// counts as ink.
func loadsNoOutline(p *sfnt.Font, gid int) (blank bool) {
	defer func() {
		if recover() != nil {
			blank = false
		}
	}()
	var buf sfnt.Buffer
	segs, err := p.LoadGlyph(&buf, sfnt.GlyphIndex(gid), fixed.I(1000), nil)
	return err == nil && len(segs) == 0
}

// maxFontProgram bounds the embedded font programs the measure reads.
const maxFontProgram = 8 << 20

// trueTypeProgram parses the embedded TrueType program of a CIDFontType2
// whose CIDs are glyph indices; nil when there is none or it cannot be read.
func (m *contentMeasure) trueTypeProgram(cid pdf.Dict) *sfnt.Font {
	if cid.Name("Subtype") != "CIDFontType2" {
		return nil
	}
	if g, ok := m.v.get(cid["CIDToGIDMap"]).(pdf.Name); cid["CIDToGIDMap"] != nil && (!ok || g != "Identity") {
		return nil
	}
	st, ok := m.v.get(m.v.dictOf(cid["FontDescriptor"])["FontFile2"]).(*pdf.Stream)
	if !ok {
		return nil
	}
	data, err := m.v.f.StreamData(st, m.v.rev)
	if err != nil || len(data) > maxFontProgram {
		return nil
	}
	return parseProgram(data)
}

// parseProgram parses a TrueType program, nil when it cannot be read
// (a panic on a hostile program included).
func parseProgram(data []byte) (p *sfnt.Font) {
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	p, err := sfnt.Parse(data)
	if err != nil {
		return nil
	}
	return p
}

func num(o pdf.Object) (float64, bool) {
	switch x := o.(type) {
	case pdf.Integer:
		return float64(x), true
	case pdf.Real:
		return float64(x), true
	}
	return 0, false
}

// run interprets one content stream with resources res under ctm.
func (m *contentMeasure) run(data []byte, res pdf.Dict, ctm matrix, depth int) {
	if depth > maxFormDepth {
		m.overflow = true
		return
	}
	lx := &lexer{b: data}
	gs := gstate{ctm: ctm}
	var stack []gstate
	ts := textState{th: 1, tm: identity, tlm: identity}
	var operands []token
	path := Box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	// Strokes are kept segment by segment: a box ruled around a form
	// field is not content over the field, its four edges are.
	var segs [][4]float64
	var cx, cy, sx, sy float64
	extend := func(x, y float64) {
		px, py := gs.ctm.apply(x, y)
		path.X1, path.Y1, path.X2, path.Y2 = math.Min(path.X1, px), math.Min(path.Y1, py), math.Max(path.X2, px), math.Max(path.Y2, py)
	}
	lineTo := func(x, y float64) {
		if len(segs) < 10_000 {
			ax, ay := gs.ctm.apply(cx, cy)
			bx, by := gs.ctm.apply(x, y)
			segs = append(segs, [4]float64{ax, ay, bx, by})
		}
		cx, cy = x, y
		extend(x, y)
	}
	stroke := func() {
		for _, sg := range segs {
			m.add(Box{math.Min(sg[0], sg[2]) - 0.5, math.Min(sg[1], sg[3]) - 0.5, math.Max(sg[0], sg[2]) + 0.5, math.Max(sg[1], sg[3]) + 0.5})
		}
	}
	resetPath := func() {
		path = Box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		segs = segs[:0]
	}
	nums := func(n int) ([]float64, bool) {
		if len(operands) < n {
			return nil, false
		}
		out := make([]float64, n)
		for i, t := range operands[len(operands)-n:] {
			if t.kind != tokNumber {
				return nil, false
			}
			out[i] = t.num
		}
		return out, true
	}
	show := func(s []byte) {
		if ts.font == nil {
			ts.font = &font{dflt: 500}
		}
		step := 1
		if ts.font.twoByte {
			step = 2
		}
		for i := 0; i+step <= len(s); i += step {
			code := int(s[i])
			if step == 2 {
				code = code<<8 | int(s[i+1])
			}
			w := ts.font.width(code) / 1000
			trm := matrix{ts.size * ts.th, 0, 0, ts.size, 0, ts.rs}.mul(ts.tm).mul(gs.ctm)
			if !ts.font.inkless(code) {
				m.add(trm.box(0, -0.25, w, 0.9))
			}
			adv := (w*ts.size + ts.tc) * ts.th
			if step == 1 && s[i] == ' ' {
				adv += ts.tw * ts.th
			}
			ts.tm = matrix{1, 0, 0, 1, adv, 0}.mul(ts.tm)
		}
	}
	for m.ops < maxContentOps && !m.overflow {
		t, ok := lx.next()
		if !ok {
			break
		}
		if m.tokens++; m.tokens > maxTokens {
			m.overflow = true
			break
		}
		if t.kind != tokOperator {
			if len(operands) < 64 {
				operands = append(operands, t)
			}
			continue
		}
		m.ops++
		switch t.op {
		case "q":
			if len(stack) < 64 {
				stack = append(stack, gs)
			}
		case "Q":
			if len(stack) > 0 {
				gs, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		case "cm":
			if a, ok := nums(6); ok {
				gs.ctm = matrix{a[0], a[1], a[2], a[3], a[4], a[5]}.mul(gs.ctm)
			}
		case "g", "rg", "k":
			n := map[string]int{"g": 1, "rg": 3, "k": 4}[t.op]
			if a, ok := nums(n); ok {
				gs.fill, gs.fillCMYK = a, t.op == "k"
			}
		case "sc", "scn", "cs":
			gs.fill = nil // an unknown colour space: count what it paints
		case "m":
			if a, ok := nums(2); ok {
				cx, cy, sx, sy = a[0], a[1], a[0], a[1]
				extend(cx, cy)
			}
		case "l":
			if a, ok := nums(2); ok {
				lineTo(a[0], a[1])
			}
		case "c":
			if a, ok := nums(6); ok {
				extend(a[0], a[1])
				extend(a[2], a[3])
				lineTo(a[4], a[5])
			}
		case "v", "y":
			if a, ok := nums(4); ok {
				extend(a[0], a[1])
				lineTo(a[2], a[3])
			}
		case "h":
			lineTo(sx, sy)
		case "re":
			if a, ok := nums(4); ok {
				cx, cy, sx, sy = a[0], a[1], a[0], a[1]
				extend(cx, cy)
				lineTo(a[0]+a[2], a[1])
				lineTo(a[0]+a[2], a[1]+a[3])
				lineTo(a[0], a[1]+a[3])
				lineTo(a[0], a[1])
			}
		case "S", "s":
			stroke()
			resetPath()
		case "f", "F", "f*", "B", "B*", "b", "b*":
			if !gs.white() {
				m.add(path)
			} else if t.op[0] == 'B' || t.op[0] == 'b' {
				stroke()
			}
			resetPath()
		case "n":
			resetPath()
		case "BT":
			ts.tm, ts.tlm = identity, identity
		case "Tf":
			if len(operands) >= 2 && operands[len(operands)-2].kind == tokName && operands[len(operands)-1].kind == tokNumber {
				ts.font = m.font(res, pdf.Name(operands[len(operands)-2].str))
				ts.size = operands[len(operands)-1].num
			}
		case "Tc":
			if a, ok := nums(1); ok {
				ts.tc = a[0]
			}
		case "Tw":
			if a, ok := nums(1); ok {
				ts.tw = a[0]
			}
		case "Tz":
			if a, ok := nums(1); ok {
				ts.th = a[0] / 100
			}
		case "TL":
			if a, ok := nums(1); ok {
				ts.tl = a[0]
			}
		case "Ts":
			if a, ok := nums(1); ok {
				ts.rs = a[0]
			}
		case "Td", "TD":
			if a, ok := nums(2); ok {
				ts.tlm = matrix{1, 0, 0, 1, a[0], a[1]}.mul(ts.tlm)
				ts.tm = ts.tlm
				if t.op == "TD" {
					ts.tl = -a[1]
				}
			}
		case "Tm":
			if a, ok := nums(6); ok {
				ts.tlm = matrix{a[0], a[1], a[2], a[3], a[4], a[5]}
				ts.tm = ts.tlm
			}
		case "T*":
			ts.tlm = matrix{1, 0, 0, 1, 0, -ts.tl}.mul(ts.tlm)
			ts.tm = ts.tlm
		case "Tj", "'", "\"":
			if t.op != "Tj" {
				ts.tlm = matrix{1, 0, 0, 1, 0, -ts.tl}.mul(ts.tlm)
				ts.tm = ts.tlm
			}
			if len(operands) > 0 && operands[len(operands)-1].kind == tokString {
				show(operands[len(operands)-1].bytes)
			}
		case "TJ":
			if len(operands) > 0 && operands[len(operands)-1].kind == tokArray {
				for _, e := range operands[len(operands)-1].arr {
					switch e.kind {
					case tokString:
						show(e.bytes)
					case tokNumber:
						ts.tm = matrix{1, 0, 0, 1, -e.num / 1000 * ts.size * ts.th, 0}.mul(ts.tm)
					}
				}
			}
		case "Do":
			if len(operands) > 0 && operands[len(operands)-1].kind == tokName {
				m.xobject(res, pdf.Name(operands[len(operands)-1].str), gs.ctm, depth)
			}
		case "BI":
			lx.skipInlineImage()
			m.add(gs.ctm.box(0, 0, 1, 1))
		case "sh":
			m.overflow = true // a shading fill covers an unknown area (often the page)
		}
		operands = operands[:0]
	}
	if m.ops >= maxContentOps || lx.bad {
		m.overflow = true
	}
}

func (g gstate) white() bool {
	if g.fill == nil {
		return false
	}
	for _, c := range g.fill {
		if g.fillCMYK && c != 0 || !g.fillCMYK && c != 1 {
			return false
		}
	}
	return true
}

func (m *contentMeasure) xobject(res pdf.Dict, name pdf.Name, ctm matrix, depth int) {
	xo := m.v.dictOf(res["XObject"])
	st, ok := m.v.get(xo[name]).(*pdf.Stream)
	if !ok {
		return
	}
	switch st.Dict.Name("Subtype") {
	case "Image":
		m.add(ctm.box(0, 0, 1, 1))
	case "Form":
		fm := identity
		if a, ok := m.v.get(st.Dict["Matrix"]).(pdf.Array); ok && len(a) == 6 {
			for i := range fm {
				fm[i], _ = num(m.v.get(a[i]))
			}
		}
		data, ok := m.forms[st.Ref]
		if !ok {
			var err error
			if data, err = m.v.f.StreamData(st, m.v.rev); err != nil {
				m.overflow = true
				return
			}
			m.forms[st.Ref] = data
		}
		fres := m.v.dictOf(st.Dict["Resources"])
		if fres == nil {
			fres = res
		}
		m.run(data, fres, fm.mul(ctm), depth+1)
	}
}

// ContentBoxes returns the bounding boxes of what page (an indirect page
// object) draws in revision rev of f: its glyphs, images and painted paths,
// as the change analysis measures them. ok is false when the page could
// not be measured within the analysis limits.
func ContentBoxes(f *pdf.File, rev int, page pdf.Ref) (boxes []Box, ok bool, err error) {
	v, err := newView(f, rev)
	if err != nil {
		return nil, false, err
	}
	boxes, ok = v.pageContent(page)
	return boxes, ok, nil
}
