package signing

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// ErrAlreadySigned is returned when a certification signature is requested
// for a document that already carries signatures: DocMDP must come first.
var ErrAlreadySigned = errors.New("signing: a certification signature must be the document's first signature")

// placeholder locates the reserved /Contents and /ByteRange in the update.
type placeholder struct {
	update                 []byte // the update section, ByteRange filled in
	base                   int64  // offset of update[0] in the output
	contentsAt, contentsTo int64  // file offsets of '<' and just after '>'
}

const byteRangeWidth = 48

// updateKind is what an incremental update adds.
type updateKind int

const (
	// kindSignature: a CAdES signature (/Type /Sig, ETSI.CAdES.detached).
	kindSignature updateKind = iota
	// kindDocTimestamp: a document timestamp (/Type /DocTimeStamp,
	// ETSI.RFC3161) in an invisible field, ETSI EN 319 142-1 §5.4.3.
	kindDocTimestamp
)

// buildUpdate writes the objects of the signature's incremental update: the
// signature dictionary with placeholders, the field/widget, the page's new
// /Annots, the AcroForm and, when needed, the catalog. Existing objects
// (page, AcroForm, catalog) get new versions under their own numbers, with
// every key they had kept, so the trailer's /Root never moves.
func buildUpdate(doc *pdfupdate.Doc, o *Options, contentsSize int, kind updateKind) (*placeholder, error) {
	var ph *placeholder
	err := pdfupdate.Safe(func() error {
		var err error
		ph, err = buildUpdateUnsafe(doc, o, contentsSize, kind)
		return err
	})
	return ph, err
}

func buildUpdateUnsafe(doc *pdfupdate.Doc, o *Options, contentsSize int, kind updateKind) (*placeholder, error) {
	docTS := kind == kindDocTimestamp
	if docTS && (o.Certify != 0 || o.Lock || o.Visible != nil) {
		return nil, errors.New("signing: a document timestamp is invisible and neither certifies nor locks")
	}
	cat, err := doc.Catalog()
	if err != nil {
		return nil, err
	}
	u := doc.NewUpdate()
	rootID := doc.Root().Num

	// Existing form fields: keep them, learn their names, refuse DocMDP
	// when something is signed already.
	acro := cat.Key("AcroForm")
	var fieldRefs []string
	names := map[string]bool{}
	signed := 0
	if acro.Kind() == pdf.Dict {
		fields := acro.Key("Fields")
		self := fields.GetPtr().GetID()
		for i := 0; i < fields.Len(); i++ {
			f := fields.Index(i)
			s, err := pdfupdate.Value(f, self)
			if err != nil {
				return nil, fmt.Errorf("read /AcroForm /Fields: %w", err)
			}
			fieldRefs = append(fieldRefs, s)
			names[f.Key("T").Text()] = true
			if f.Key("FT").Name() == "Sig" && f.Key("V").Kind() == pdf.Dict {
				signed++
			}
		}
	}
	if o.Certify != 0 && signed > 0 {
		return nil, ErrAlreadySigned
	}
	if !cat.Key("Perms").Key("DocMDP").IsNull() && o.Certify != 0 {
		return nil, ErrAlreadySigned
	}
	name := o.FieldName
	prefix := "Signature"
	if docTS {
		prefix = "DocTimeStamp"
	}
	if name == "" {
		for n := signed + 1; ; n++ {
			if name = fmt.Sprintf("%s%d", prefix, n); !names[name] {
				break
			}
		}
	} else if names[name] {
		return nil, fmt.Errorf("signing: a field named %q already exists", name)
	}

	// Page and rectangle.
	pageNo := 1
	var rect [4]float64
	if v := o.Visible; v != nil {
		if v.Page > 0 {
			pageNo = v.Page
		}
		rect = v.Rect
	}
	page, pageRef, err := doc.Page(pageNo)
	if err != nil {
		return nil, err
	}
	if v := o.Visible; v != nil && v.Anchor != "" {
		if rect, err = anchorRect(doc, pageNo, v.Anchor, v.Width, v.Height); err != nil {
			return nil, err
		}
	}
	if rect[0] > rect[2] {
		rect[0], rect[2] = rect[2], rect[0]
	}
	if rect[1] > rect[3] {
		rect[1], rect[3] = rect[3], rect[1]
	}
	w, h := rect[2]-rect[0], rect[3]-rect[1]
	if o.Visible != nil && (w <= 0 || h <= 0) {
		return nil, fmt.Errorf("signing: visible signature needs a non-empty rectangle, got %v", rect)
	}

	// Appearance: a form XObject drawing the image and the marks; empty
	// when invisible.
	var ap pdfupdate.Ref
	if v := o.Visible; v != nil && (v.Image != nil || v.Encoded != nil || len(v.Marks) > 0) {
		var content, xobjects strings.Builder
		draw := func(name string, ref pdfupdate.Ref, box [4]float64) {
			if content.Len() > 0 {
				content.WriteByte(' ')
			}
			fmt.Fprintf(&content, "q %s 0 0 %s %s %s cm /%s Do Q", pdfupdate.Real(box[2]-box[0]), pdfupdate.Real(box[3]-box[1]),
				pdfupdate.Real(box[0]), pdfupdate.Real(box[1]), name)
			fmt.Fprintf(&xobjects, " /%s %s", name, ref)
		}
		if v.Image != nil || v.Encoded != nil {
			box := [4]float64{0, 0, w, h}
			if v.ImageBox != ([4]float64{}) {
				if box, err = inWidget(v.ImageBox, w, h); err != nil {
					return nil, fmt.Errorf("signing: image box: %w", err)
				}
			}
			var img pdfupdate.Ref
			if v.Encoded != nil {
				img = encodedXObject(u, v.Encoded)
			} else if img, err = imageXObject(u, v.Image); err != nil {
				return nil, err
			}
			draw("Img", img, box)
		}
		for i, m := range v.Marks {
			box, err := inWidget(m.Box, w, h)
			if err != nil {
				return nil, fmt.Errorf("signing: mark %d: %w", i+1, err)
			}
			ref, err := imageXObject(u, m.Image)
			if err != nil {
				return nil, fmt.Errorf("signing: mark %d: %w", i+1, err)
			}
			draw(fmt.Sprintf("M%d", i+1), ref, box)
		}
		ap = u.Add(pdfupdate.Stream(pdfupdate.Dict{
			"Type": "/XObject", "Subtype": "/Form",
			"BBox":      fmt.Sprintf("[0 0 %s %s]", pdfupdate.Real(w), pdfupdate.Real(h)),
			"Resources": fmt.Sprintf("<< /XObject <<%s >> >>", xobjects.String()),
		}, []byte(content.String())))
	} else {
		ap = u.Add(pdfupdate.Stream(pdfupdate.Dict{
			"Type": "/XObject", "Subtype": "/Form",
			"BBox": fmt.Sprintf("[0 0 %s %s]", pdfupdate.Real(w), pdfupdate.Real(h)),
		}, nil))
	}

	// Signature dictionary.
	sigRef := u.Reserve()
	sig := pdfupdate.Dict{
		"Type":       "/Sig",
		"Filter":     "/Adobe.PPKLite",
		"SubFilter":  "/ETSI.CAdES.detached",
		"ByteRange":  "[" + strings.Repeat(" ", byteRangeWidth) + "]",
		"Contents":   "<" + strings.Repeat("0", 2*contentsSize) + ">",
		"M":          pdfupdate.LiteralString([]byte(pdfDate(o.Time))),
		"Prop_Build": "<< /App << /Name /vanthu >> >>",
	}
	if docTS {
		// The time is the token's; /M and the signer's details do not
		// apply (ETSI EN 319 142-1 §5.4.3, ISO 32000-2 §12.8.5).
		sig["Type"] = "/DocTimeStamp"
		sig["SubFilter"] = "/ETSI.RFC3161"
		delete(sig, "M")
	}
	for k, v := range map[string]string{"Name": o.Name, "Reason": o.Reason, "Location": o.Location, "ContactInfo": o.ContactInfo} {
		if v != "" && !docTS {
			sig[k] = pdfupdate.TextString(v)
		}
	}
	// Each signature reference names the catalog as its /Data: ISO 32000-1
	// requires it for FieldMDP, and Acrobat writes it for DocMDP too, so
	// verifiers meet it in most certified files.
	var refs []string
	if o.Certify != 0 {
		refs = append(refs, fmt.Sprintf("<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P %d /V /1.2 >> /Data %s >>", o.Certify, doc.Root()))
	}
	if o.Lock {
		refs = append(refs, fmt.Sprintf("<< /Type /SigRef /TransformMethod /FieldMDP /TransformParams << /Type /TransformParams /Action /All /V /1.2 >> /Data %s >>", doc.Root()))
	}
	if len(refs) > 0 {
		sig["Reference"] = "[" + strings.Join(refs, " ") + "]"
	}
	u.Set(sigRef, sig.Bytes())

	// The field merged with its widget annotation.
	widget := pdfupdate.Dict{
		"Type": "/Annot", "Subtype": "/Widget", "FT": "/Sig",
		"T":    pdfupdate.TextString(name),
		"V":    sigRef.String(),
		"P":    pageRef.String(),
		"Rect": fmt.Sprintf("[%s %s %s %s]", pdfupdate.Real(rect[0]), pdfupdate.Real(rect[1]), pdfupdate.Real(rect[2]), pdfupdate.Real(rect[3])),
		"F":    "132", // Print | Locked
		"AP":   fmt.Sprintf("<< /N %s >>", ap),
	}
	if o.Lock {
		widget["Lock"] = "<< /Type /SigFieldLock /Action /All >>"
	}
	fieldRef := u.Add(widget.Bytes())
	widgets := []placedAnnot{{pageNo, fieldRef}}
	if o.Visible != nil {
		for i, x := range o.Visible.Texts {
			pa, err := textAnnot(doc, u, x)
			if err != nil {
				return nil, fmt.Errorf("signing: text %d: %w", i+1, err)
			}
			widgets = append(widgets, pa)
		}
	}

	// Each page lists its new annotations.
	var pages []int
	onPage := map[int][]string{}
	for _, pw := range widgets {
		if _, seen := onPage[pw.page]; !seen {
			pages = append(pages, pw.page)
		}
		onPage[pw.page] = append(onPage[pw.page], pw.ref.String())
	}
	for _, n := range pages {
		pg, pgRef := page, pageRef
		if n != pageNo {
			if pg, pgRef, err = doc.Page(n); err != nil {
				return nil, err
			}
		}
		pageDict, err := pdfupdate.DictOf(pg)
		if err != nil {
			return nil, err
		}
		annots := pg.Key("Annots")
		var annotRefs []string
		self := annots.GetPtr().GetID()
		for i := 0; i < annots.Len(); i++ {
			s, err := pdfupdate.Value(annots.Index(i), self)
			if err != nil {
				return nil, fmt.Errorf("read page %d /Annots: %w", n, err)
			}
			annotRefs = append(annotRefs, s)
		}
		pageDict["Annots"] = "[" + strings.Join(append(annotRefs, onPage[n]...), " ") + "]"
		u.Set(pgRef, pageDict.Bytes())
	}

	// AcroForm: in place when it is its own object, else inside the catalog.
	acroDict := pdfupdate.Dict{}
	if acro.Kind() == pdf.Dict {
		if acroDict, err = pdfupdate.DictOf(acro); err != nil {
			return nil, err
		}
	}
	acroDict["Fields"] = "[" + strings.Join(append(fieldRefs, fieldRef.String()), " ") + "]"
	acroDict["SigFlags"] = "3"
	catDict, err := pdfupdate.DictOf(cat)
	if err != nil {
		return nil, err
	}
	catChanged := false
	if id := acro.GetPtr().GetID(); acro.Kind() == pdf.Dict && id != 0 && id != rootID {
		u.Set(pdfupdate.Ref{Num: id, Gen: acro.GetPtr().GetGen()}, acroDict.Bytes())
	} else {
		catDict["AcroForm"] = acroDict.String()
		catChanged = true
	}
	if o.Certify != 0 {
		catDict["Perms"] = fmt.Sprintf("<< /DocMDP %s >>", sigRef)
		catChanged = true
	}
	if catChanged {
		u.Set(doc.Root(), catDict.Bytes())
	}

	b, res, err := u.Bytes()
	if err != nil {
		return nil, err
	}
	body := res.Bodies[sigRef.Num] - res.Start
	ci := bytes.Index(b[body:], []byte("/Contents <"))
	bi := bytes.Index(b[body:], []byte("/ByteRange ["))
	if ci < 0 || bi < 0 {
		return nil, errors.New("signing: placeholder not found in the signature dictionary")
	}
	ph := &placeholder{update: b, base: res.Start}
	ph.contentsAt = res.Start + body + int64(ci) + int64(len("/Contents "))
	ph.contentsTo = ph.contentsAt + int64(2*contentsSize) + 2
	br := fmt.Sprintf("0 %d %d %d", ph.contentsAt, ph.contentsTo, res.End-ph.contentsTo)
	if len(br) > byteRangeWidth {
		return nil, errors.New("signing: file too large for the /ByteRange placeholder")
	}
	at := body + int64(bi) + int64(len("/ByteRange ["))
	copy(b[at:], br)
	return ph, nil
}

// inWidget checks that box (x1,y1,x2,y2 from the widget's lower-left
// corner) is non-empty and inside a w×h widget, and orders its corners.
func inWidget(box [4]float64, w, h float64) ([4]float64, error) {
	if box[0] > box[2] {
		box[0], box[2] = box[2], box[0]
	}
	if box[1] > box[3] {
		box[1], box[3] = box[3], box[1]
	}
	const slack = 0.01 // points: rounding of the caller's arithmetic
	if !(box[2]-box[0] > 0 && box[3]-box[1] > 0) || box[0] < -slack || box[1] < -slack || box[2] > w+slack || box[3] > h+slack {
		return box, fmt.Errorf("%v is empty or outside the %sx%s widget", box, pdfupdate.Real(w), pdfupdate.Real(h))
	}
	return box, nil
}

// placedAnnot is an annotation of the update and its page.
type placedAnnot struct {
	page int
	ref  pdfupdate.Ref
}

// textAnnot adds a FreeText annotation showing x's text: printed, read-only
// and locked, its content too, with its own appearance.
func textAnnot(doc *pdfupdate.Doc, u *pdfupdate.Update, x Text) (placedAnnot, error) {
	var out placedAnnot
	pageNo := max(x.Page, 1)
	_, pageRef, err := doc.Page(pageNo)
	if err != nil {
		return out, err
	}
	r := x.Rect
	if r[0] > r[2] {
		r[0], r[2] = r[2], r[0]
	}
	if r[1] > r[3] {
		r[1], r[3] = r[3], r[1]
	}
	w, h := r[2]-r[0], r[3]-r[1]
	if !(w > 0 && h > 0) || !(x.Size > 0 && x.Size < 200) {
		return out, fmt.Errorf("needs a non-empty rectangle and a text size, got %v at %g pt", x.Rect, x.Size)
	}
	if x.Text == "" {
		return out, errors.New("no text")
	}
	for i := 0; i < len(x.Text); i++ {
		if c := x.Text[i]; c < 0x20 || c > 0x7e {
			return out, fmt.Errorf("text %q: only printable ASCII is drawn", x.Text)
		}
	}
	const font = "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding >>"
	content := fmt.Sprintf("BT 0 g /TiRo %s Tf 0 %s Td %s Tj ET", pdfupdate.Real(x.Size), pdfupdate.Real(x.Baseline), pdfupdate.LiteralString([]byte(x.Text)))
	ap := u.Add(pdfupdate.Stream(pdfupdate.Dict{
		"Type": "/XObject", "Subtype": "/Form",
		"BBox":      fmt.Sprintf("[0 0 %s %s]", pdfupdate.Real(w), pdfupdate.Real(h)),
		"Resources": "<< /Font << /TiRo " + font + " >> >>",
	}, []byte(content)))
	annot := pdfupdate.Dict{
		"Type": "/Annot", "Subtype": "/FreeText",
		"P":        pageRef.String(),
		"Rect":     fmt.Sprintf("[%s %s %s %s]", pdfupdate.Real(r[0]), pdfupdate.Real(r[1]), pdfupdate.Real(r[2]), pdfupdate.Real(r[3])),
		"Contents": pdfupdate.TextString(x.Text),
		"DA":       pdfupdate.LiteralString([]byte("/TiRo " + pdfupdate.Real(x.Size) + " Tf 0 g")),
		"BS":       "<< /W 0 >>",
		"F":        "708", // Print | ReadOnly | Locked | LockedContents
		"AP":       fmt.Sprintf("<< /N %s >>", ap),
	}
	out.page, out.ref = pageNo, u.Add(annot.Bytes())
	return out, nil
}

// pdfDate formats t as a PDF date string, keeping its zone (+07'00').
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	if off == 0 {
		return t.Format("D:20060102150405") + "Z"
	}
	return fmt.Sprintf("%s%c%02d'%02d'", t.Format("D:20060102150405"), sign, off/3600, off%3600/60)
}

// anchorRect finds text on the page (appearance.FindAnchor reads the fonts
// office suites write, Type0/Identity-H included) and returns a w×h
// rectangle centred just below it.
func anchorRect(doc *pdfupdate.Doc, pageNo int, anchor string, w, h float64) ([4]float64, error) {
	if w <= 0 || h <= 0 {
		return [4]float64{}, errors.New("signing: an anchored signature needs a width and height")
	}
	a, err := appearance.ParsedReader(doc.Reader()).Anchor(pageNo, anchor)
	if err != nil {
		return [4]float64{}, fmt.Errorf("signing: anchor %q on page %d: %w", anchor, pageNo, err)
	}
	p := appearance.PlaceRelative(a, w, h, appearance.Below, 2)
	return [4]float64{p.X1, p.Y1, p.X2, p.Y2}, nil
}
