package verify

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font/sfnt"

	"github.com/vanthu/vanthu/internal/pdffont"
)

// WritePDF writes the reports as a PDF an auditor can file. The text is set
// in Liberation Serif (metric-compatible with Times New Roman, full
// Vietnamese coverage) embedded as a CID font with a ToUnicode map, so the
// diacritics render everywhere and the text can be searched and copied.
func WritePDF(w io.Writer, reps []*Report, lang Lang, at time.Time) error {
	fnt, err := reportFace.Font()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	pw := &pdfWriter{font: fnt}
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

// reportFace is the report's face, embedded by pdffont.
var reportFace = pdffont.Face{Name: "LiberationSerif", TTF: liberationserifregular.TTF}

type pdfWriter struct {
	font *pdffont.Font
}

const (
	pageW, pageH = 595.0, 842.0
	margin       = 50.0
	fontSize     = 10.0
	titleSize    = 13.0
	leading      = 13.5
)

func (p *pdfWriter) glyph(r rune) (sfnt.GlyphIndex, float64) { return p.font.Glyph(r) }

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

func (p *pdfWriter) hexText(s string) string { return p.font.Hex(s) }

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
	base := len(offsets) + 1
	var type0 int
	for _, o := range p.font.Objects(func(i int) string { return fmt.Sprintf("%d 0 R", base+i) }) {
		if o.Stream {
			type0 = stream(o.Dict, o.Data)
		} else {
			type0 = obj(o.Dict)
		}
	}
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
