package diff

import (
	"fmt"
	"math"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Annotation flags (ISO 32000-2 Table 167) that keep an annotation from
// being drawn on screen.
const (
	flagHidden = 1 << 1
	flagNoView = 1 << 5
)

// drawnBox returns the rectangle annotation d is drawn into in view v, and
// false when a viewer draws nothing there that could hide page content: a
// hidden annotation, a popup, a link or text markup without an appearance
// of its own (viewers draw those as outlines or translucent marks).
func drawnBox(v *view, d pdf.Dict) (Box, bool) {
	if d == nil {
		return Box{}, false
	}
	if f, ok := num(v.get(d["F"])); ok && int64(f)&(flagHidden|flagNoView) != 0 {
		return Box{}, false
	}
	_, hasAP := d["AP"]
	switch d.Name("Subtype") {
	case "Popup":
		return Box{}, false
	case "Link", "Highlight", "Underline", "StrikeOut", "Squiggly":
		if !hasAP {
			return Box{}, false
		}
	}
	r, ok := v.get(d["Rect"]).(pdf.Array)
	if !ok || len(r) != 4 {
		return Box{}, false
	}
	var c [4]float64
	for i := range c {
		if c[i], ok = num(v.get(r[i])); !ok {
			return Box{}, false
		}
	}
	b := Box{math.Min(c[0], c[2]), math.Min(c[1], c[3]), math.Max(c[0], c[2]), math.Max(c[1], c[3])}
	return b, !b.empty()
}

// covers says whether annotation or widget ann, as the new revision draws
// it, lies over what its page showed when the document was signed: the
// page content's text, images and paths, and the other annotations drawn
// then. It returns a description of what is covered.
func (a *analyzer) covers(ann pdf.Ref) (bool, string) {
	box, drawn := drawnBox(a.new, a.new.dictOf(ann))
	if !drawn {
		return false, ""
	}
	page, ok := a.new.annotPage[ann]
	if !ok {
		if p, isRef := a.new.dictOf(ann)["P"].(pdf.Ref); isRef {
			page = p
		}
	}
	n := a.pageNumber(page)
	signed := a.signedView()
	if signed == nil || signed.labels[page] == nil || !signed.labels[page].has(lPage) {
		return true, fmt.Sprintf("annotation %d %d is drawn on no page that was signed", ann.Num, ann.Gen)
	}
	boxes, measured := signed.pageContent(page)
	if !measured {
		return true, fmt.Sprintf("page %d content could not be measured within the limits, so nothing may be drawn over it", n)
	}
	for _, b := range boxes {
		if box.overlaps(b) {
			return true, fmt.Sprintf("annotation %d %d at [%.0f %.0f %.0f %.0f] covers signed content of page %d at [%.0f %.0f %.0f %.0f]",
				ann.Num, ann.Gen, box.X1, box.Y1, box.X2, box.Y2, n, b.X1, b.Y1, b.X2, b.Y2)
		}
	}
	// Annotations the signed page already showed are signed content too.
	for other, p := range signed.annotPage {
		if p != page || other == ann {
			continue
		}
		if ob, drawn := drawnBox(signed, signed.dictOf(other)); drawn && box.overlaps(ob) {
			return true, fmt.Sprintf("annotation %d %d covers annotation %d %d, shown on page %d when it was signed", ann.Num, ann.Gen, other.Num, other.Gen, n)
		}
	}
	return false, ""
}

func (a *analyzer) signedView() *view {
	v, err := a.view(a.signedRev)
	if err != nil {
		return nil
	}
	return v
}

// existedAtSigning says whether object ref was part of the signed revision.
func (a *analyzer) existedAtSigning(ref pdf.Ref) bool {
	e, _, ok := a.f.Lookup(ref, a.signedRev)
	return ok && !e.Free
}

// annotate says whether annotations may be added: at DocMDP P=3, and
// after an approval signature that locks nothing (ISO 32000-2 §12.8.2:
// without DocMDP or FieldMDP nothing restricts them; EU DSS accepts them).
func (a *analyzer) annotate() bool {
	return a.level >= Annotations || a.approval && len(a.locks) == 0
}

// annotation judges a change to a non-widget annotation ref.
func (a *analyzer) annotation(ref pdf.Ref, kind string) (string, string) {
	name := fmt.Sprintf("annotation %d %d", ref.Num, ref.Gen)
	if a.level >= Annotations {
		return RuleAnnotation, name + " " + kind + " (DocMDP level 3)"
	}
	if !a.annotate() {
		return "", name + " " + kind
	}
	if kind != "added" && a.existedAtSigning(ref) {
		return "", name + ", shown when the document was signed, " + kind
	}
	if c, why := a.covers(ref); c {
		return "", why
	}
	sub := a.new.dictOf(ref).Name("Subtype")
	return RuleAnnotationAdded, fmt.Sprintf("%s (/%s) %s after an approval signature, over no signed content", name, sub, kind)
}
