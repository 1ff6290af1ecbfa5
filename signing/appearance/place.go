package appearance

import (
	"fmt"
	"image"
)

// Rect is a rectangle in PDF user space, in points, y growing upwards
// (the order of a PDF /Rect array: lower left, upper right).
type Rect struct{ X1, Y1, X2, Y2 float64 }

// W is the rectangle's width.
func (r Rect) W() float64 { return r.X2 - r.X1 }

// H is the rectangle's height.
func (r Rect) H() float64 { return r.Y2 - r.Y1 }

// Canon returns r with X1 ≤ X2 and Y1 ≤ Y2.
func (r Rect) Canon() Rect {
	if r.X1 > r.X2 {
		r.X1, r.X2 = r.X2, r.X1
	}
	if r.Y1 > r.Y2 {
		r.Y1, r.Y2 = r.Y2, r.Y1
	}
	return r
}

func (r Rect) String() string {
	return fmt.Sprintf("[%.2f %.2f %.2f %.2f]", r.X1, r.Y1, r.X2, r.Y2)
}

// SignatureArea returns where, inside a signer appearance drawn in box,
// the handwritten signature image lands (the whole gap between title and
// name when the spec has no image).
func SignatureArea(signer Spec, box Rect) (Rect, error) {
	box = box.Canon()
	// At 72 dpi a pixel is a point, so the layout's numbers are points.
	_, sig, err := signerLayout(signer, box.W(), box.H(), 72)
	if err != nil {
		return Rect{}, fmt.Errorf("signature area: %w", err)
	}
	sig = sig.Inset(sig.Dy() / 20)
	if img := signer.SignatureImage; img != nil && !img.Bounds().Empty() {
		sig = fitted(sig, img.Bounds())
	}
	return Rect{box.X1 + float64(sig.Min.X), box.Y2 - float64(sig.Max.Y),
		box.X1 + float64(sig.Max.X), box.Y2 - float64(sig.Min.Y)}, nil
}

// fitted is the part of r that an image of bounds src scaled to fit and
// centred covers (the same arithmetic as drawFitted).
func fitted(r, src image.Rectangle) image.Rectangle {
	scale := min(float64(r.Dx())/float64(src.Dx()), float64(r.Dy())/float64(src.Dy()))
	w, h := int(float64(src.Dx())*scale+0.5), int(float64(src.Dy())*scale+0.5)
	x := r.Min.X + (r.Dx()-w)/2
	y := r.Min.Y + (r.Dy()-h)/2
	return image.Rect(x, y, x+w, y+h)
}

// SealRect returns the rectangle, of org's natural Size, for the
// organisation's signature so that its seal, at real size, covers the left
// third of the handwritten signature in the signer's appearance at
// signerBox (Decree 30: "trùm lên khoảng 1/3 chữ ký về phía bên trái"),
// centred on the signature's height.
func SealRect(signer Spec, signerBox Rect, org Spec) (Rect, error) {
	sig, err := SignatureArea(signer, signerBox)
	if err != nil {
		return Rect{}, fmt.Errorf("seal placement: %w", err)
	}
	w, h := Size(org)
	seal, _, _, _, err := orgLayout(org, w, h, 72)
	if err != nil {
		return Rect{}, fmt.Errorf("seal placement: %w", err)
	}
	// Seal centre inside the organisation box, y measured from its top.
	cx := float64(seal.Min.X+seal.Max.X) / 2
	cy := float64(seal.Min.Y+seal.Max.Y) / 2
	d := float64(seal.Dx())
	px := sig.X1 + sig.W()/3 - d/2
	py := (sig.Y1 + sig.Y2) / 2
	x1, y2 := px-cx, py+cy
	return Rect{x1, y2 - h, x1 + w, y2}, nil
}

// Decree 30 page margins: the copy mark sits in the top margin, aligned
// with the right margin.
const (
	mmToPt          = 72 / 25.4
	copyRightMargin = 15 * mmToPt
	copyTopMargin   = 6 * mmToPt
	copyWidth       = 200
	copyHeight      = 64 // five lines of 10 pt text
)

// CopyRect returns the rectangle top right of a page of the given size (in
// points) for the text-only signature of a copy or attachment.
func CopyRect(pageW, pageH float64) Rect {
	x2 := pageW - copyRightMargin
	y2 := pageH - copyTopMargin
	r := Rect{x2 - copyWidth, y2 - copyHeight, x2, y2}
	// On pages smaller than the margins allow, stay on the page.
	if r.X1 < 0 {
		r.X1, r.X2 = 0, min(copyWidth, pageW)
	}
	if r.Y1 < 0 {
		r.Y1, r.Y2 = 0, min(copyHeight, pageH)
	}
	return r
}

// Side says where PlaceRelative puts a box relative to its anchor.
type Side int

const (
	Above   Side = iota // centred horizontally, gap above the anchor
	Below               // centred horizontally, gap below the anchor
	LeftOf              // centred vertically, gap to the left
	RightOf             // centred vertically, gap to the right
	Over                // centred on the anchor
)

// PlaceRelative returns a w×h rectangle placed on the given side of
// anchor, gap points away, for example a signer's appearance Above the
// name line found with FindAnchor.
func PlaceRelative(anchor Rect, w, h float64, side Side, gap float64) Rect {
	a := anchor.Canon()
	cx, cy := (a.X1+a.X2)/2, (a.Y1+a.Y2)/2
	switch side {
	case Above:
		return Rect{cx - w/2, a.Y2 + gap, cx + w/2, a.Y2 + gap + h}
	case Below:
		return Rect{cx - w/2, a.Y1 - gap - h, cx + w/2, a.Y1 - gap}
	case LeftOf:
		return Rect{a.X1 - gap - w, cy - h/2, a.X1 - gap, cy + h/2}
	case RightOf:
		return Rect{a.X2 + gap, cy - h/2, a.X2 + gap + w, cy + h/2}
	default:
		return Rect{cx - w/2, cy - h/2, cx + w/2, cy + h/2}
	}
}
