package certify

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/internal/pdffont"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// Statement is the certifier's statement (lời chứng) drawn on the last page
// of a certified copy (Circular 01/2020/TT-BTP form for copies from
// originals): the words, the certification number and book, the date, the
// certifier's title and name around the space their signature fills.
type Statement struct {
	Number int
	Book   string // e.g. 01/2026-SCTĐT/BS
	Date   time.Time
	Title  string // the certifier's title, e.g. "Công chức Tư pháp – Hộ tịch"
	Name   string
	// VerifyURL is the copy's public verification address, drawn as a QR
	// code beside the statement ("": none).
	VerifyURL string
}

// Lines are the statement's words, in order, with the signature's place
// between the title and the name.
func (s Statement) Lines() (head []string, name string) {
	d := s.Date.In(Vietnam)
	return []string{
		"Chứng thực bản sao đúng với bản chính.",
		fmt.Sprintf("Số chứng thực %d, quyển số %s", s.Number, s.Book),
		fmt.Sprintf("Ngày %02d tháng %02d năm %d", d.Day(), int(d.Month()), d.Year()),
		strings.ToUpper(s.Title),
	}, s.Name
}

// Statement box geometry, in points.
const (
	boxW, boxH   = 250.0, 175.0
	boxMargin    = 14.0
	sigW, sigH   = 120.0, 58.0
	lineSize     = 10.5
	firstSize    = 11.5
	lineLeading  = 14.0
	qrSide       = 72.0 // about 25 mm: readable by a phone from a printed page
	qrGap        = 6.0
	fontResource = "FVanthuCT"
	boldResource = "FVanthuCTB"
)

// placed is where the statement went: the page and the rectangle the
// certifier's signature widget fills.
type placed struct {
	Page    int
	SigRect [4]float64
	Box     [4]float64
}

// drawStatement appends to the unsigned scan in an incremental update the
// statement box at the bottom right of its last page: a white panel (the
// scan beneath may be dark) with the text in real, searchable glyphs. The
// page's own content is wrapped in q/Q so nothing it leaves in the
// graphics state moves the statement.
func drawStatement(in io.ReaderAt, size int64, out io.Writer, st Statement) (placed, error) {
	doc, err := pdfupdate.Open(in, size)
	if err != nil {
		return placed{}, fmt.Errorf("statement: %w", err)
	}
	n, err := doc.NumPages()
	if err != nil || n < 1 {
		return placed{}, fmt.Errorf("statement: the scan has no pages (%v)", err)
	}
	page, pageRef, err := doc.Page(n)
	if err != nil {
		return placed{}, fmt.Errorf("statement: %w", err)
	}
	var mb [4]float64
	var pageDict, resDict pdfupdate.Dict
	var contents []string
	err = pdfupdate.Safe(func() error {
		mb = mediaBox(page)
		if pageDict, err = pdfupdate.DictOf(page); err != nil {
			return err
		}
		res := inherited(page, "Resources")
		if res.Kind() == pdf.Dict {
			if resDict, err = pdfupdate.DictOf(res); err != nil {
				return err
			}
		} else {
			resDict = pdfupdate.Dict{}
		}
		c := page.Key("Contents")
		switch c.Kind() {
		case pdf.Array:
			for i := 0; i < c.Len(); i++ {
				v, err := pdfupdate.Value(c.Index(i), pageRef.Num)
				if err != nil {
					return err
				}
				contents = append(contents, v)
			}
		case pdf.Stream:
			v, err := pdfupdate.Value(c, pageRef.Num)
			if err != nil {
				return err
			}
			contents = append(contents, v)
		}
		fonts := res.Key("Font")
		fontDict := pdfupdate.Dict{}
		if fonts.Kind() == pdf.Dict {
			if fontDict, err = pdfupdate.DictOf(fonts); err != nil {
				return err
			}
		}
		resDict["Font"] = fontDict.String() // completed below
		return nil
	})
	if err != nil {
		return placed{}, fmt.Errorf("statement: %w", err)
	}
	regular, err := newFont(false)
	if err != nil {
		return placed{}, err
	}
	bold, err := newFont(true)
	if err != nil {
		return placed{}, err
	}
	w := min(boxW, mb[2]-mb[0]-2*boxMargin)
	h := boxH
	x0, y0 := mb[2]-boxMargin-w, mb[1]+boxMargin
	head, name := st.Lines()
	var cs strings.Builder
	fmt.Fprintf(&cs, "q 1 1 1 rg 0.35 0.35 0.35 RG 0.6 w %.2f %.2f %.2f %.2f re B 0 0 0 rg\n", x0, y0, w, h)
	y := y0 + h - 8
	centre := func(f *pdffont.Font, res, s string, size float64) {
		for size > 6 && f.Width(s, size) > w-12 {
			size -= 0.5
		}
		y -= size + 3
		x := x0 + (w-f.Width(s, size))/2
		fmt.Fprintf(&cs, "BT /%s %.1f Tf %.2f %.2f Td %s Tj ET\n", res, size, x, y, f.Hex(s))
	}
	centre(bold, boldResource, head[0], firstSize)
	centre(regular, fontResource, head[1], lineSize)
	centre(regular, fontResource, head[2], lineSize)
	y -= 4
	centre(bold, boldResource, head[3], lineSize)
	sigTop := y - 4
	sig := [4]float64{x0 + (w-sigW)/2, sigTop - sigH, x0 + (w+sigW)/2, sigTop}
	y = sig[1] - 2
	centre(bold, boldResource, name, lineSize)
	cs.WriteString("Q\n")
	if st.VerifyURL != "" {
		// Above the box where the page has room, else to its left.
		qx, qy := x0+w-qrSide, y0+h+qrGap
		if qy+qrSide > mb[3]-boxMargin {
			qx, qy = x0-qrGap-qrSide, y0
		}
		if qx < mb[0] {
			return placed{}, fmt.Errorf("statement: the last page (%.0f x %.0f pt) has no room for the verification code", mb[2]-mb[0], mb[3]-mb[1])
		}
		if err := drawQR(&cs, st.VerifyURL, qx, qy, qrSide); err != nil {
			return placed{}, fmt.Errorf("statement: %w", err)
		}
	}

	u := doc.NewUpdate()
	refs := func(f *pdffont.Font) pdfupdate.Ref {
		rs := make([]pdfupdate.Ref, pdffont.Objects)
		for i := range rs {
			rs[i] = u.Reserve()
		}
		for i, body := range f.Bodies(func(i int) string { return rs[i].String() }) {
			u.Set(rs[i], body)
		}
		return rs[pdffont.Objects-1]
	}
	regRef := refs(regular)
	boldRef := refs(bold)
	fontDict := strings.TrimSuffix(resDict["Font"], ">>") + " /" + fontResource + " " + regRef.String() + " /" + boldResource + " " + boldRef.String() + " >>"
	resDict["Font"] = fontDict
	open := u.Add(pdfupdate.Stream(pdfupdate.Dict{}, []byte("q\n")))
	overlay := u.Add(flateStream("", []byte("Q\n"+cs.String())))
	pageDict["Resources"] = resDict.String()
	pageDict["Contents"] = "[" + open.String() + " " + strings.Join(contents, " ") + " " + overlay.String() + "]"
	u.Set(pageRef, pageDict.Bytes())
	if _, err := u.Write(out); err != nil {
		return placed{}, fmt.Errorf("statement: %w", err)
	}
	return placed{Page: n, SigRect: sig, Box: [4]float64{x0, y0, x0 + w, y0 + h}}, nil
}

// inherited reads a page attribute that may sit on an ancestor.
func inherited(page pdf.Value, key string) pdf.Value {
	v := page
	for i := 0; i < 32 && v.Kind() == pdf.Dict; i++ {
		if x := v.Key(key); x.Kind() != pdf.Null {
			return x
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

// mediaBox is the page's MediaBox, US Letter when missing or unreadable.
func mediaBox(page pdf.Value) [4]float64 {
	b := inherited(page, "MediaBox")
	if b.Kind() != pdf.Array || b.Len() != 4 {
		return [4]float64{0, 0, 612, 792}
	}
	var r [4]float64
	for i := range r {
		r[i] = b.Index(i).Float64()
	}
	if r[0] > r[2] {
		r[0], r[2] = r[2], r[0]
	}
	if r[1] > r[3] {
		r[1], r[3] = r[3], r[1]
	}
	return r
}
