package appearance

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/text/unicode/norm"
)

// Slot is a blank a Decree 30 document leaves for the văn thư to fill in:
// the space between two printed words of one line.
type Slot struct {
	// Rect spans the blank horizontally, from the right edge of the word
	// before to the left edge of the word after, and the line's glyph boxes
	// vertically.
	Rect Rect
	// Baseline is the line's baseline (y, user space) and Size its font
	// size, for writing into the blank in the line's own size.
	Baseline, Size float64
}

// Placeholders are the blanks of a document's number and date, as Decree 30
// (Appendix I) prints them on page 1 before issuing: "Số:    /QĐ-UBND" and
// "…, ngày   tháng   năm 2026".
type Placeholders struct {
	Page int
	// Number is the blank between "Số:" and the symbol's "/…"; nil when the
	// page prints no such blank.
	Number *Slot
	// Day and Month are the blanks after "ngày" and after "tháng" on the
	// date line; nil when the page prints no blank date line.
	Day, Month *Slot
	// Year is the year printed after "năm" on the date line (0: none).
	Year int
}

// word is a run of glyphs on one line without a space or gap between them.
type word struct {
	text     string
	box      Rect
	baseline float64
	size     float64
}

// words groups a page's glyphs into words the way searchText separates
// them: a blank glyph, a gap of more than 0.15 em, a line change or a step
// back ends a word.
func words(gs []glyph) []word {
	var out []word
	var cur *word
	for i, g := range gs {
		if isBlank(g.text) || strings.TrimSpace(g.text) == "" {
			cur = nil
			continue
		}
		if cur != nil && i > 0 {
			prev := gs[i-1]
			if math.Abs(g.baseline-prev.baseline) > 0.5*g.size || g.box.X1-prev.box.X2 > 0.15*g.size || g.box.X2 < prev.box.X1 {
				cur = nil
			}
		}
		if cur == nil {
			out = append(out, word{box: g.box, baseline: g.baseline, size: g.size})
			cur = &out[len(out)-1]
		} else {
			cur.box = Rect{min(cur.box.X1, g.box.X1), min(cur.box.Y1, g.box.Y1), max(cur.box.X2, g.box.X2), max(cur.box.Y2, g.box.Y2)}
		}
		cur.text += g.text
	}
	for i := range out {
		out[i].text = norm.NFC.String(out[i].text)
	}
	return out
}

// sameLine says whether b follows a on a's line.
func sameLine(a, b word) bool {
	return math.Abs(a.baseline-b.baseline) <= 0.3*a.size && b.box.X1 >= a.box.X2-0.5
}

// between is the blank between two words of a line, or nil when they touch.
func between(a, b word) *Slot {
	if b.box.X1-a.box.X2 < 0.5*a.size {
		return nil // nothing left blank: already filled in, or no placeholder
	}
	return &Slot{
		Rect:     Rect{a.box.X2, min(a.box.Y1, b.box.Y1), b.box.X1, max(a.box.Y2, b.box.Y2)},
		Baseline: a.baseline, Size: a.size,
	}
}

// FindPlaceholders reads page 1 of the PDF and returns the blanks of its
// number and date. A page printing neither gives empty Placeholders, not an
// error: the caller decides whether the document must have them.
func FindPlaceholders(r io.ReaderAt, size int64) (Placeholders, error) {
	d, err := open(r, size, "find number and date placeholders")
	if err != nil {
		return Placeholders{}, err
	}
	return d.Placeholders()
}

// Placeholders is FindPlaceholders on the parsed PDF.
func (d *Parsed) Placeholders() (ph Placeholders, err error) {
	defer func() {
		if p := recover(); p != nil {
			ph, err = Placeholders{}, fmt.Errorf("find number and date placeholders: malformed PDF: %v", p)
		}
	}()
	rd := d.rd
	if rd.NumPage() < 1 {
		return Placeholders{}, fmt.Errorf("find number and date placeholders: the PDF has no page")
	}
	p := rd.Page(1)
	if p.V.IsNull() {
		return Placeholders{}, fmt.Errorf("find number and date placeholders: page 1 missing")
	}
	ws := words(pageGlyphs(p))
	ph = Placeholders{Page: 1}
	for i := 0; i+1 < len(ws) && ph.Number == nil; i++ {
		a, b := ws[i], ws[i+1]
		if isNumberLabel(a.text) && sameLine(a, b) && strings.HasPrefix(b.text, "/") {
			ph.Number = between(a, b)
		}
	}
	for i := 0; i+2 < len(ws) && ph.Day == nil; i++ {
		d, m, y := ws[i], ws[i+1], ws[i+2]
		if !strings.EqualFold(d.text, "ngày") || !strings.EqualFold(m.text, "tháng") || !strings.EqualFold(y.text, "năm") ||
			!sameLine(d, m) || !sameLine(m, y) {
			continue
		}
		day, month := between(d, m), between(m, y)
		if day == nil || month == nil {
			continue // a date written out ("ngày 05 tháng 3 năm 2020" reads differently) or filled in
		}
		ph.Day, ph.Month = day, month
		if i+3 < len(ws) && sameLine(y, ws[i+3]) {
			if n, err := strconv.Atoi(strings.TrimRight(ws[i+3].text, ".,;")); err == nil && n >= 1900 && n <= 9999 {
				ph.Year = n
			}
		}
	}
	return ph, nil
}

// isNumberLabel accepts "Số:" as printed (NFC, either case).
func isNumberLabel(s string) bool {
	s = strings.TrimFunc(s, unicode.IsSpace)
	return strings.EqualFold(s, "Số:")
}

// TextWidth is the width in points of s set in Liberation Serif (the
// metrics of Times New Roman and of PDF's standard Times-Roman) at sizePt.
func TextWidth(s string, sizePt float64) (float64, error) {
	face, err := newFace(false, sizePt, 72)
	if err != nil {
		return 0, err
	}
	defer face.Close()
	return float64(font.MeasureString(face, s)) / 64, nil
}
