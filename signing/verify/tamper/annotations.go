package tamper

import (
	"errors"
	"fmt"
	"math"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify/diff"
)

// Annotations added after an approval signature. Comments, stamps and
// links that cover nothing the signer saw are permitted changes (with a
// warning); one laid over the signed text is not. The generators measure
// the first page's content with the change analysis's own measure, so the
// "clear" cases are clear by construction.

// pageLayout is what the generators need to know of the first page.
type pageLayout struct {
	u       *update
	ref     pdf.Ref
	page    pdf.Dict
	media   diff.Box
	content []diff.Box // content and existing annotations
}

func layout(in []byte) (*pageLayout, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	ref, page, err := u.firstPage()
	if err != nil {
		return nil, err
	}
	boxes, ok, err := diff.ContentBoxes(u.f, u.last.Index, ref)
	if err != nil {
		return nil, fmt.Errorf("tamper: measure page: %w", err)
	}
	if !ok {
		return nil, errors.New("tamper: the first page cannot be measured")
	}
	l := &pageLayout{u: u, ref: ref, page: page, media: diff.Box{X1: 0, Y1: 0, X2: 595, Y2: 842}, content: boxes}
	if mb, ok := u.resolve(page["MediaBox"]).(pdf.Array); ok && len(mb) == 4 {
		var c [4]float64
		for i := range c {
			c[i] = number(u.resolve(mb[i]))
		}
		l.media = diff.Box{X1: c[0], Y1: c[1], X2: c[2], Y2: c[3]}
	}
	annots, _ := u.resolve(page["Annots"]).(pdf.Array)
	for _, a := range annots {
		if d, ok := u.resolve(a).(pdf.Dict); ok {
			if r, ok := u.resolve(d["Rect"]).(pdf.Array); ok && len(r) == 4 {
				b := diff.Box{X1: number(u.resolve(r[0])), Y1: number(u.resolve(r[1])), X2: number(u.resolve(r[2])), Y2: number(u.resolve(r[3]))}
				if b.X2 > b.X1 && b.Y2 > b.Y1 {
					l.content = append(l.content, b)
				}
			}
		}
	}
	return l, nil
}

func number(o pdf.Object) float64 {
	switch x := o.(type) {
	case pdf.Integer:
		return float64(x)
	case pdf.Real:
		return float64(x)
	}
	return 0
}

func hits(a, b diff.Box) bool {
	const margin = 2 // keep clear of the measure's tolerance
	return math.Min(a.X2, b.X2)+margin > math.Max(a.X1, b.X1) && math.Min(a.Y2, b.Y2)+margin > math.Max(a.Y1, b.Y1)
}

// freeSpot finds a w×h rectangle on the page that touches nothing drawn,
// scanning from the bottom right (where office documents leave room).
func (l *pageLayout) freeSpot(w, h float64) (diff.Box, error) {
	for y := l.media.Y1 + 4; y+h <= l.media.Y2-4; y += 4 {
		for x := l.media.X2 - 4 - w; x >= l.media.X1+4; x -= 4 {
			b := diff.Box{X1: x, Y1: y, X2: x + w, Y2: y + h}
			free := true
			for _, c := range l.content {
				if hits(b, c) {
					free = false
					break
				}
			}
			if free {
				return b, nil
			}
		}
	}
	return diff.Box{}, fmt.Errorf("tamper: no free %gx%g area on the first page", w, h)
}

// firstText is the first content box of the page (the start of its first
// line of text in a Decree 30 draft), widened to a line's width.
func (l *pageLayout) firstText() (diff.Box, error) {
	if len(l.content) == 0 {
		return diff.Box{}, errors.New("tamper: the first page draws nothing")
	}
	b := l.content[0]
	for _, c := range l.content[1:] {
		if math.Abs(c.Y1-b.Y1) < 2 && c.X2 > b.X2 && c.X1 < b.X2+30 {
			b.X2 = c.X2
		}
	}
	return b, nil
}

func rect(b diff.Box) string {
	return fmt.Sprintf("[%.2f %.2f %.2f %.2f]", b.X1, b.Y1, b.X2, b.Y2)
}

// addAnnot lists annotation number an on the first page.
func (l *pageLayout) addAnnot(an uint32) {
	annots, _ := l.u.resolve(l.page["Annots"]).(pdf.Array)
	l.page["Annots"] = append(append(pdf.Array{}, annots...), pdf.Ref{Num: an})
	l.u.set(l.ref.Num, serialize(l.page))
}

// appearance adds a form XObject that paints an opaque box with text.
func (u *update) appearance(b diff.Box, text string) uint32 {
	w, h := b.X2-b.X1, b.Y2-b.Y1
	data := fmt.Sprintf("1 1 1 rg 0 0 %.2f %.2f re f 0.8 0 0 RG 2 w 1 1 %.2f %.2f re S BT /Helv %.1f Tf 0.8 0 0 rg 4 %.2f Td (%s) Tj ET", w, h, w-2, h-2, math.Min(h*0.6, 14), h*0.3, text)
	n := u.alloc()
	u.set(n, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] /Resources << /Font << /Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >> >> >> /Length %d >>\nstream\n%s\nendstream", w, h, len(data), data))
	return n
}

// AddComment adds a reviewer's sticky note (a Text annotation) in an empty
// part of the first page: a permitted change after an approval signature.
func AddComment(in []byte) ([]byte, error) {
	l, err := layout(in)
	if err != nil {
		return nil, err
	}
	b, err := l.freeSpot(20, 20)
	if err != nil {
		return nil, err
	}
	an := l.u.alloc()
	l.u.set(an, fmt.Sprintf("<< /Type /Annot /Subtype /Text /Rect %s /Contents %s /T %s /Name /Comment /F 4 /P %s >>",
		rect(b), serialize(pdf.String("Da xem, de nghi phat hanh")), serialize(pdf.String("Van thu")), l.ref))
	l.addAnnot(an)
	return l.u.bytes(""), nil
}

// AddStamp adds a "received" stamp with its own appearance in an empty
// part of the first page: permitted after an approval signature.
func AddStamp(in []byte) ([]byte, error) {
	l, err := layout(in)
	if err != nil {
		return nil, err
	}
	b, err := l.freeSpot(110, 30)
	if err != nil {
		return nil, err
	}
	ap := l.u.appearance(b, "DA NHAN")
	an := l.u.alloc()
	l.u.set(an, fmt.Sprintf("<< /Type /Annot /Subtype /Stamp /Rect %s /Name /Approved /F 4 /P %s /AP << /N %d 0 R >> >>", rect(b), l.ref, ap))
	l.addAnnot(an)
	return l.u.bytes(""), nil
}

// AddLink makes the first line of text a link (no appearance of its own:
// viewers draw nothing over the text): permitted after an approval
// signature.
func AddLink(in []byte) ([]byte, error) {
	l, err := layout(in)
	if err != nil {
		return nil, err
	}
	b, err := l.firstText()
	if err != nil {
		return nil, err
	}
	an := l.u.alloc()
	l.u.set(an, fmt.Sprintf("<< /Type /Annot /Subtype /Link /Rect %s /Border [0 0 0] /A << /S /URI /URI (https://vbpl.vn) >> /F 4 /P %s >>", rect(b), l.ref))
	l.addAnnot(an)
	return l.u.bytes(""), nil
}

// AddStampOverText lays a stamp with an opaque appearance over the first
// line of signed text: not permitted, it changes what the signer saw.
func AddStampOverText(in []byte) ([]byte, error) {
	l, err := layout(in)
	if err != nil {
		return nil, err
	}
	b, err := l.firstText()
	if err != nil {
		return nil, err
	}
	ap := l.u.appearance(b, "BAN SUA DOI")
	an := l.u.alloc()
	l.u.set(an, fmt.Sprintf("<< /Type /Annot /Subtype /Stamp /Rect %s /F 4 /P %s /AP << /N %d 0 R >> >>", rect(b), l.ref, ap))
	l.addAnnot(an)
	return l.u.bytes(""), nil
}
