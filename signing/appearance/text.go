package appearance

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// Liberation Serif is metric-compatible with Times New Roman, the face
// Decree 30/2020 prescribes, and (unlike the Go fonts) has every precomposed
// Vietnamese letter, so no shaping engine is needed once text is in NFC.
var (
	fontsOnce sync.Once
	fontsErr  error
	serif     *opentype.Font
	serifBold *opentype.Font
)

func loadFonts() error {
	fontsOnce.Do(func() {
		var err error
		if serif, err = opentype.Parse(liberationserifregular.TTF); err != nil {
			fontsErr = fmt.Errorf("appearance: parse Liberation Serif: %w", err)
			return
		}
		if serifBold, err = opentype.Parse(liberationserifbold.TTF); err != nil {
			fontsErr = fmt.Errorf("appearance: parse Liberation Serif Bold: %w", err)
		}
	})
	return fontsErr
}

// style is one kind of text line in a layout.
type style struct {
	bold  bool
	size  float64 // points, before shrinking
	color color.Color
}

// para is a paragraph of one style; it may wrap onto several lines.
type para struct {
	text string
	st   style
}

// line is one laid-out line: its text, face size and position in pixels.
type line struct {
	text     string
	bold     bool
	sizePt   float64
	x        fixed.Int26_6 // left of the pen
	baseline fixed.Int26_6
	width    fixed.Int26_6
	color    color.Color
	para     int     // index of the paragraph the line belongs to
	top      float64 // top of the line's box, pixels
}

// normalise returns s in NFC with runs of white space collapsed: the font
// has precomposed glyphs only, so "e" + U+0302 + U+0301 must become "ế".
func normalise(s string) string {
	return norm.NFC.String(strings.Join(strings.Fields(s), " "))
}

// missingGlyphs lists the runes of s (after normalising) that the font
// has no glyph for.
func missingGlyphs(s string, bold bool) ([]rune, error) {
	if err := loadFonts(); err != nil {
		return nil, err
	}
	f := serif
	if bold {
		f = serifBold
	}
	var buf sfnt.Buffer
	var missing []rune
	for _, r := range normalise(s) {
		i, err := f.GlyphIndex(&buf, r)
		if err != nil {
			return nil, fmt.Errorf("appearance: glyph for %q: %w", r, err)
		}
		if i == 0 {
			missing = append(missing, r)
		}
	}
	return missing, nil
}

func newFace(bold bool, sizePt float64, dpi int) (font.Face, error) {
	if err := loadFonts(); err != nil {
		return nil, err
	}
	f := serif
	if bold {
		f = serifBold
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: sizePt, DPI: float64(dpi), Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("appearance: font face %.1fpt at %d dpi: %w", sizePt, dpi, err)
	}
	return face, nil
}

// wrap breaks text into lines no wider than maxW with face; ok is false
// when a single word is wider than maxW (the caller then shrinks the text).
func wrap(face font.Face, text string, maxW fixed.Int26_6) (lines []string, ok bool) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil, true
	}
	cur := ""
	for _, w := range words {
		if font.MeasureString(face, w) > maxW {
			return nil, false
		}
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if font.MeasureString(face, try) <= maxW {
			cur = try
			continue
		}
		lines = append(lines, cur)
		cur = w
	}
	return append(lines, cur), true
}

// lineHeight is the distance between baselines, as a multiple of the size.
const lineHeight = 1.2

// minSizePt is the smallest text we draw: below it the text is unreadable
// when printed, so Render fails instead of producing it.
const minSizePt = 4.0

// layoutBlock fits the paragraphs into a box of width w pixels and at most
// maxH pixels, shrinking every size by the same factor until the wrapped
// text fits. It returns the lines positioned from y=0 (top of the block),
// centred horizontally when centre is set, and the block's height.
func layoutBlock(paras []para, w, maxH float64, dpi int, centre bool) ([]line, float64, error) {
	if len(paras) == 0 {
		return nil, 0, nil
	}
	pxPerPt := float64(dpi) / 72
	largest := 0.0
	for _, p := range paras {
		largest = max(largest, p.st.size)
		// A missing glyph would print as an empty box on a legal document;
		// refuse it instead.
		missing, err := missingGlyphs(p.text, p.st.bold)
		if err != nil {
			return nil, 0, err
		}
		if len(missing) > 0 {
			return nil, 0, fmt.Errorf("appearance: the font has no glyph for %q in %q", string(missing), p.text)
		}
	}
	for scale := 1.0; largest*scale >= minSizePt; scale *= 0.94 {
		lines, h, ok, err := tryLayout(paras, w, maxH, dpi, pxPerPt, scale, centre)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			return lines, h, nil
		}
	}
	return nil, 0, fmt.Errorf("appearance: text does not fit in %.0f×%.0f pt even at %.0f pt: %q",
		w/pxPerPt, maxH/pxPerPt, minSizePt, paras[0].text)
}

func tryLayout(paras []para, w, maxH float64, dpi int, pxPerPt, scale float64, centre bool) ([]line, float64, bool, error) {
	var out []line
	y := 0.0
	maxW := fixed.Int26_6(w * 64)
	for pi, p := range paras {
		size := p.st.size * scale
		face, err := newFace(p.st.bold, size, dpi)
		if err != nil {
			return nil, 0, false, err
		}
		texts, ok := wrap(face, p.text, maxW)
		if !ok {
			face.Close()
			return nil, 0, false, nil
		}
		m := face.Metrics()
		step := size * lineHeight * pxPerPt
		ascent := float64(m.Ascent) / 64
		for _, t := range texts {
			lw := font.MeasureString(face, t)
			x := fixed.Int26_6(0)
			if centre {
				x = (maxW - lw) / 2
			}
			// The baseline sits so that the line's box of height step has
			// the ascent plus half the spare leading above it.
			base := y + ascent + (step-float64(m.Ascent+m.Descent)/64)/2
			out = append(out, line{text: t, bold: p.st.bold, sizePt: size, x: x,
				baseline: fixed.Int26_6(base * 64), width: lw, color: p.st.color, para: pi, top: y})
			y += step
		}
		face.Close()
	}
	return out, y, y <= maxH, nil
}

// drawLines draws the lines onto dst, offset by (dx, dy) pixels.
func drawLines(dst *image.NRGBA, lines []line, dx, dy float64, dpi int) error {
	for _, l := range lines {
		face, err := newFace(l.bold, l.sizePt, dpi)
		if err != nil {
			return err
		}
		d := font.Drawer{
			Dst:  dst,
			Src:  image.NewUniform(l.color),
			Face: face,
			Dot:  fixed.Point26_6{X: l.x + fixed.Int26_6(dx*64), Y: l.baseline + fixed.Int26_6(dy*64)},
		}
		d.DrawString(l.text)
		face.Close()
	}
	return nil
}
