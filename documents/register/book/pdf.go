package book

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font/sfnt"

	"github.com/vanthu/vanthu/internal/pdffont"
)

// The book is landscape A4 so the ten columns of Appendix IV fit.
const (
	pageW, pageH = 842.0, 595.0
	margin       = 36.0
	cellSize     = 8.0
	cellLeading  = 10.0
	cellPad      = 3.0
)

// colWeights shares the page's width among the Appendix IV columns; the
// subject column gets the most room.
var colWeights = []float64{10, 8, 26, 11, 15, 11, 6, 8, 7, 8}

// WritePDF writes the register as a printable book: a cover page with the
// organisation, the register, the year and the numbers it runs from and to,
// then the table with every column, the header repeated on each page. Text
// is set in Liberation Serif embedded as a CID font with a ToUnicode map
// (the way the verification report is drawn), so Vietnamese renders and can
// be searched. Each page's content is written out as soon as it is full.
func WritePDF(w io.Writer, b Book) error {
	fnt, err := serif.Font()
	if err != nil {
		return fmt.Errorf("book: %w", err)
	}
	p := &pdf{font: fnt, out: &countWriter{w: bufio.NewWriter(w)}}
	p.offsets = []int64{0, 0, 0} // 1 catalog, 2 page tree, 3 font: written last
	p.printf("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")

	// Cover.
	var cs strings.Builder
	y := pageH - 160
	center := func(s string, size float64) {
		x := (pageW - p.width(s, size)) / 2
		fmt.Fprintf(&cs, "BT /F1 %.1f Tf %.2f %.2f Td %s Tj ET\n", size, x, y, p.hex(s))
		y -= size * 2
	}
	center(strings.ToUpper(b.Organization), 16)
	y -= 30
	heading := b.Heading
	if heading == "" {
		heading = "SỔ ĐĂNG KÝ VĂN BẢN"
	}
	center(heading, 24)
	center(b.Register, 16)
	y -= 20
	if b.Period != "" {
		center(b.Period, 16)
	} else {
		center(fmt.Sprintf("Năm %d", b.Year), 16)
	}
	if len(b.Rows) == 0 {
		center("Không có văn bản", 13)
	} else if b.ToNumber > 0 {
		center(fmt.Sprintf("Từ số %02d đến số %02d", b.FromNumber, b.ToNumber), 13)
	}
	p.page(cs.String())

	// Table.
	total := 0.0
	for i := range b.Columns {
		total += b.weight(i)
	}
	widths := make([]float64, len(b.Columns))
	for i := range widths {
		widths[i] = (pageW - 2*margin) * b.weight(i) / total
	}
	cs.Reset()
	y = pageH - margin
	// layout wraps a row's cells and gives its height.
	layout := func(cells []string) ([][]string, float64) {
		lines := make([][]string, len(widths))
		n := 1
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			lines[i] = p.wrap(c, widths[i]-2*cellPad, cellSize)
			n = max(n, len(lines[i]))
		}
		return lines, float64(n)*cellLeading + 2*cellPad
	}
	drawRow := func(lines [][]string, h float64) {
		x := margin
		for i, wd := range widths {
			fmt.Fprintf(&cs, "%.2f %.2f %.2f %.2f re S\n", x, y-h, wd, h)
			for k, l := range lines[i] {
				fmt.Fprintf(&cs, "BT /F1 %.1f Tf %.2f %.2f Td %s Tj ET\n", cellSize, x+cellPad, y-cellPad-float64(k+1)*cellLeading+2, p.hex(l))
			}
			x += wd
		}
		y -= h
	}
	startPage := func() {
		fmt.Fprintf(&cs, "0.5 w\nBT /F1 11.0 Tf %.2f %.2f Td %s Tj ET\n", margin, y-11, p.hex(b.Title()))
		y -= 20
		drawRow(layout(b.Columns))
	}
	startPage()
	for _, r := range b.Rows {
		lines, h := layout(r)
		if y-h < margin {
			p.page(cs.String())
			cs.Reset()
			y = pageH - margin
			startPage()
		}
		drawRow(lines, h)
	}
	p.page(cs.String())
	return p.finish()
}

// weight is column i's share of the page: the book's Widths when given,
// else the outgoing register's.
func (b Book) weight(i int) float64 {
	if b.Widths != nil {
		if i < len(b.Widths) {
			return b.Widths[i]
		}
		return 8
	}
	if i < len(colWeights) {
		return colWeights[i]
	}
	return 8
}

// serif is the book's face: Liberation Serif, embedded by pdffont.
var serif = pdffont.Face{Name: "LiberationSerif", TTF: liberationserifregular.TTF}

type pdf struct {
	font    *pdffont.Font
	z       bytes.Buffer
	zw      *zlib.Writer
	out     *countWriter
	offsets []int64 // by object number - 1
	kids    []int
}

type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
	return n, err
}

func (p *pdf) printf(format string, a ...any) { fmt.Fprintf(p.out, format, a...) }

// glyph is the glyph and advance (in thousandths of the size) of a rune.
func (p *pdf) glyph(r rune) (sfnt.GlyphIndex, float64) { return p.font.Glyph(r) }

func (p *pdf) width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		_, a := p.glyph(r)
		w += a
	}
	return w * size / 1000
}

// wrap splits a cell's text into lines no wider than width points, at
// spaces where it can.
func (p *pdf) wrap(s string, width, size float64) []string {
	limit := width * 1000 / size
	var out []string
	for _, para := range strings.Split(s, "\n") {
		var cur []rune
		w, lastSpace := 0.0, -1
		for _, r := range para {
			if r == '\t' || r == '\r' {
				r = ' '
			}
			_, adv := p.glyph(r)
			if w+adv > limit && len(cur) > 0 {
				if lastSpace > 0 {
					out = append(out, string(cur[:lastSpace]))
					cur = append([]rune(nil), cur[lastSpace+1:]...)
				} else {
					out = append(out, string(cur))
					cur = nil
				}
				w = 0
				for _, c := range cur {
					_, a := p.glyph(c)
					w += a
				}
				lastSpace = -1
			}
			if r == ' ' {
				lastSpace = len(cur)
			}
			cur = append(cur, r)
			w += adv
		}
		out = append(out, string(cur))
	}
	return out
}

func (p *pdf) hex(s string) string { return p.font.Hex(s) }

func (p *pdf) begin(n int) {
	for len(p.offsets) < n {
		p.offsets = append(p.offsets, 0)
	}
	p.offsets[n-1] = p.out.n
	p.printf("%d 0 obj\n", n)
}

func (p *pdf) obj(body string) int {
	n := len(p.offsets) + 1
	p.begin(n)
	p.printf("%s\nendobj\n", body)
	return n
}

func (p *pdf) stream(dict string, data []byte) int {
	// One compressor for every stream: each new one allocates about 1 MB.
	p.z.Reset()
	if p.zw == nil {
		p.zw = zlib.NewWriter(&p.z)
	} else {
		p.zw.Reset(&p.z)
	}
	p.zw.Write(data)
	p.zw.Close()
	z := &p.z
	n := len(p.offsets) + 1
	p.begin(n)
	p.printf("<< %s /Filter /FlateDecode /Length %d >>\nstream\n", dict, z.Len())
	p.out.Write(z.Bytes())
	p.printf("\nendstream\nendobj\n")
	return n
}

// page writes one page's content and its page object; both refer to the
// font (object 3) and the page tree (object 2) written at the end.
func (p *pdf) page(content string) {
	c := p.stream("", []byte(content))
	pg := p.obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.0f %.0f] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", pageW, pageH, c))
	p.kids = append(p.kids, pg)
}

func (p *pdf) finish() error {
	// The font's objects follow the pages; its Type0 font is object 3,
	// which the pages name.
	base := len(p.offsets) + 1
	objs := p.font.Objects(func(i int) string {
		if i == pdffont.Objects-1 {
			return "3 0 R"
		}
		return fmt.Sprintf("%d 0 R", base+i)
	})
	for _, o := range objs[:pdffont.Objects-1] {
		if o.Stream {
			p.stream(o.Dict, o.Data)
		} else {
			p.obj(o.Dict)
		}
	}
	p.begin(3)
	p.printf("%s\nendobj\n", objs[pdffont.Objects-1].Dict)
	kids := make([]string, len(p.kids))
	for i, k := range p.kids {
		kids[i] = fmt.Sprintf("%d 0 R", k)
	}
	p.begin(2)
	p.printf("<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n", strings.Join(kids, " "), len(kids))
	p.begin(1)
	p.printf("<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	xref := p.out.n
	p.printf("xref\n0 %d\n0000000000 65535 f \n", len(p.offsets)+1)
	for _, o := range p.offsets {
		p.printf("%010d 00000 n \n", o)
	}
	p.printf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(p.offsets)+1, xref)
	if p.out.err != nil {
		return fmt.Errorf("book write: %w", p.out.err)
	}
	if err := p.out.w.Flush(); err != nil {
		return fmt.Errorf("book write: %w", err)
	}
	return nil
}
