package appearance

import (
	"errors"
	"fmt"
	"image"
	"io"
	"math"
)

// Errors of FindSignatureGap: the caller must then be given a page and a
// rectangle.
var (
	ErrNameNotFound  = errors.New("the signer's printed name is not found on any page")
	ErrNameAmbiguous = errors.New("the signer's printed name appears more than once where a signature block could be")
)

// Gap is where a signer's handwritten signature goes in a draft that prints
// the signature block as Decree 30 lays it out (authority form, title, a gap,
// the name): between the printed title and the printed name.
type Gap struct {
	Page  int
	Name  Rect // the printed name
	Title Rect // the nearest printed line above the name in its column; zero when none
	Rect  Rect // the free space between them, for the signature image
}

// Geometry of the gap: the space kept clear of the printed lines, the
// height assumed when nothing is printed above the name, and the narrowest
// gap accepted.
const (
	gapPad        = 3
	gapNoTitle    = 60
	gapMinHeight  = 18
	gapMinWidth   = 160
	gapLookAbove  = 220
	columnOverlap = 20
)

// FindSignatureGap finds the signer's printed name (NFC, white space
// collapsed, case-insensitive after an exact try) on the pages of the PDF,
// the last page first, and returns the gap above it. Only a name standing
// alone on its line counts (the signature block prints it so; a mention in
// the running text does not). page > 0 restricts the search to that page.
// A name found nowhere is ErrNameNotFound, printed alone twice on the page
// where it is found first ErrNameAmbiguous; both mean the caller must give a
// rectangle.
func FindSignatureGap(r io.ReaderAt, size int64, name string, page int) (Gap, error) {
	d, err := open(r, size, "find signature place")
	if err != nil {
		return Gap{}, err
	}
	return d.SignatureGap(name, page)
}

// SignatureGap is FindSignatureGap on the parsed PDF.
func (d *Parsed) SignatureGap(name string, page int) (gap Gap, err error) {
	defer func() {
		if p := recover(); p != nil {
			gap, err = Gap{}, fmt.Errorf("find signature place: malformed PDF: %v", p)
		}
	}()
	needle := []rune(normalise(name))
	if len(needle) == 0 {
		return Gap{}, errors.New("find signature place: the signer has no name")
	}
	rd := d.rd
	n := rd.NumPage()
	first, last := n, 1
	if page > 0 {
		if page > n {
			return Gap{}, fmt.Errorf("find signature place: page %d outside 1–%d", page, n)
		}
		first, last = page, page
	}
	inline := 0
	for pg := first; pg >= last; pg-- {
		p := rd.Page(pg)
		if p.V.IsNull() {
			continue
		}
		glyphs := pageGlyphs(p)
		hay, owner := searchText(glyphs)
		var alone []Rect
		for _, fold := range []bool{false, true} {
			for _, at := range indexAll(hay, needle, fold) {
				box, ok := spanBox(glyphs, owner[at:at+len(needle)])
				if !ok {
					continue
				}
				if standsAlone(glyphs, owner[at:at+len(needle)], box) {
					alone = appendDistinct(alone, box)
				} else {
					inline++
				}
			}
			if len(alone) > 0 {
				break
			}
		}
		switch {
		case len(alone) > 1:
			return Gap{}, fmt.Errorf("%w: %d times on page %d", ErrNameAmbiguous, len(alone), pg)
		case len(alone) == 1:
			return gapAbove(glyphs, pg, alone[0])
		}
	}
	if inline > 0 {
		return Gap{}, fmt.Errorf("%w: %q appears only within running text, not on a line of its own", ErrNameNotFound, normalise(name))
	}
	return Gap{}, fmt.Errorf("%w: %q", ErrNameNotFound, normalise(name))
}

// indexAll returns every start of needle in hay.
func indexAll(hay, needle []rune, fold bool) []int {
	var out []int
	for from := 0; from+len(needle) <= len(hay); {
		i := indexRunes(hay[from:], needle, fold)
		if i < 0 {
			break
		}
		out = append(out, from+i)
		from += i + len(needle)
	}
	return out
}

func appendDistinct(rs []Rect, r Rect) []Rect {
	for _, x := range rs {
		if x == r {
			return rs
		}
	}
	return append(rs, r)
}

// spanBox is the union of the boxes of the glyphs owning a match.
func spanBox(glyphs []glyph, owners []int) (Rect, bool) {
	var out Rect
	found := false
	for _, gi := range owners {
		if gi < 0 {
			continue
		}
		b := glyphs[gi].box
		if !found {
			out, found = b, true
			continue
		}
		out = Rect{min(out.X1, b.X1), min(out.Y1, b.Y1), max(out.X2, b.X2), max(out.Y2, b.Y2)}
	}
	return out, found
}

// standsAlone reports whether no other visible glyph shares the match's line
// within a few font sizes of it: a name printed on its own line (its column
// of a two-column block included).
func standsAlone(glyphs []glyph, owners []int, box Rect) bool {
	mine := map[int]bool{}
	var base, size float64
	for _, gi := range owners {
		if gi >= 0 {
			mine[gi] = true
			base, size = glyphs[gi].baseline, glyphs[gi].size
		}
	}
	reach := 3 * size
	for i, g := range glyphs {
		if mine[i] || isBlank(g.text) {
			continue
		}
		if math.Abs(g.baseline-base) > 0.5*size {
			continue
		}
		if g.box.X2 >= box.X1-reach && g.box.X1 <= box.X2+reach {
			return false
		}
	}
	return true
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\u00a0' && r != '\t' {
			return false
		}
	}
	return true
}

// gapAbove measures the space between the name and the nearest printed
// glyph above it in its column.
func gapAbove(glyphs []glyph, page int, name Rect) (Gap, error) {
	g := Gap{Page: page, Name: name}
	lo, hi := name.X1-columnOverlap, name.X2+columnOverlap
	var title Rect
	found := false
	for _, gl := range glyphs {
		b := gl.box
		if isBlank(gl.text) || b.Y1 <= name.Y2 || b.Y1 > name.Y2+gapLookAbove || b.X2 < lo || b.X1 > hi {
			continue
		}
		if !found || b.Y1 < title.Y1 {
			title, found = b, true
		}
	}
	cx := (name.X1 + name.X2) / 2
	if found {
		// The whole printed line the nearest glyph belongs to, within the column.
		line := title
		for _, gl := range glyphs {
			b := gl.box
			if isBlank(gl.text) || math.Abs(b.Y1-title.Y1) > 1 || b.X2 < lo-100 || b.X1 > hi+100 {
				continue
			}
			line = Rect{min(line.X1, b.X1), min(line.Y1, b.Y1), max(line.X2, b.X2), max(line.Y2, b.Y2)}
		}
		g.Title = line
	}
	top := name.Y2 + gapNoTitle + gapPad
	if found {
		top = g.Title.Y1
	}
	bottom := name.Y2
	if top-bottom-2*gapPad < gapMinHeight {
		return g, fmt.Errorf("%w: page %d leaves only %.0f pt between the title and the name", ErrNameNotFound, page, top-bottom)
	}
	w := max(name.W(), g.Title.W(), gapMinWidth)
	g.Rect = Rect{cx - w/2, bottom + gapPad, cx + w/2, top - gapPad}
	return g, nil
}

// FitImage returns the part of box that img covers when scaled to fit it,
// keeping its proportions, centred: the rectangle to draw the image in.
func FitImage(box Rect, img image.Image) Rect {
	box = box.Canon()
	b := img.Bounds()
	if b.Empty() || box.W() <= 0 || box.H() <= 0 {
		return box
	}
	s := min(box.W()/float64(b.Dx()), box.H()/float64(b.Dy()))
	w, h := float64(b.Dx())*s, float64(b.Dy())*s
	x := box.X1 + (box.W()-w)/2
	y := box.Y1 + (box.H()-h)/2
	return Rect{x, y, x + w, y + h}
}

// ErrNoSignatureImage: a draft that prints its signature block gets only the
// handwritten signature image, and the signer has none.
var ErrNoSignatureImage = errors.New("the signer has no handwritten-signature image to draw between the printed title and name")

// SignerPlacement is what a signer's visible signature draws and where.
type SignerPlacement struct {
	Page  int
	Rect  Rect
	Image image.Image // drawn to fill Rect
	// Printed: the document prints the signer's block, so only the
	// handwritten signature is drawn; otherwise Image is the whole block.
	Printed bool
	Gap     Gap // where the name was found, when it was
}

// PlaceSigner decides a signer's visible signature on a PDF, as Decree 30
// draws it. Without rect, it finds spec.Name printed in the document
// (FindSignatureGap; page > 0 restricts the search) and draws only
// spec.SignatureImage in the gap between title and name. With rect (on
// page, default 1), it draws only the image there when the document prints
// the name on a line of its own anywhere, and otherwise the whole block
// (authority form, title, image, name) rendered at dpi: text is drawn only
// for a document that prints none.
func PlaceSigner(r io.ReaderAt, size int64, spec Spec, page int, rect *Rect, dpi int) (SignerPlacement, error) {
	d, err := open(r, size, "find signature place")
	if err != nil {
		return SignerPlacement{}, err
	}
	return d.PlaceSigner(spec, page, rect, dpi)
}

// PlaceSigner is the package's PlaceSigner on the parsed PDF.
func (d *Parsed) PlaceSigner(spec Spec, page int, rect *Rect, dpi int) (SignerPlacement, error) {
	if rect == nil {
		gap, err := d.SignatureGap(spec.Name, page)
		if err != nil {
			return SignerPlacement{}, err
		}
		return PlaceInGap(gap, spec)
	}
	box := rect.Canon()
	if box.W() <= 0 || box.H() <= 0 {
		return SignerPlacement{}, fmt.Errorf("signature rectangle %s is empty", box)
	}
	if page <= 0 {
		page = 1
	}
	if n, err := d.pageCount(); err != nil {
		return SignerPlacement{}, err
	} else if page > n {
		return SignerPlacement{}, fmt.Errorf("page %d outside 1–%d", page, n)
	}
	_, err := d.SignatureGap(spec.Name, 0)
	printed := err == nil || errors.Is(err, ErrNameAmbiguous)
	if printed {
		if spec.SignatureImage == nil {
			return SignerPlacement{}, ErrNoSignatureImage
		}
		return SignerPlacement{Page: page, Rect: FitImage(box, spec.SignatureImage), Image: spec.SignatureImage, Printed: true}, nil
	}
	img, err := Render(spec, box.W(), box.H(), dpi)
	if err != nil {
		return SignerPlacement{}, err
	}
	return SignerPlacement{Page: page, Rect: box, Image: img}, nil
}

// PlaceInGap is PlaceSigner without a rectangle, for a gap FindSignatureGap
// already found (a caller that searches while it waits for the signature
// image): only spec.SignatureImage is drawn, fitted in the gap.
func PlaceInGap(gap Gap, spec Spec) (SignerPlacement, error) {
	if spec.SignatureImage == nil {
		return SignerPlacement{}, ErrNoSignatureImage
	}
	return SignerPlacement{Page: gap.Page, Rect: FitImage(gap.Rect, spec.SignatureImage), Image: spec.SignatureImage, Printed: true, Gap: gap}, nil
}

func (d *Parsed) pageCount() (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("count pages: malformed PDF: %v", p)
		}
	}()
	return d.rd.NumPage(), nil
}
