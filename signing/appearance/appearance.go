// Package appearance owns the visible look of vanthu's signatures as Decree
// 30/2020/NĐ-CP Appendix I lays it out: the signer's block (authority form,
// title, handwritten signature, name), the organisation's signature (the red
// seal at real size with the organisation and signing time) and the text-only
// signature of copies and attachments. It renders each as a transparent
// raster image with an embedded Unicode font, because PDF signing libraries
// draw text with WinAnsi fonts that cannot show Vietnamese. It also decides
// where those images go on a page (seal over the signature, copy mark top
// right, or next to an anchor text found in the PDF) and compares rendered
// regions, for tests of signed PDFs.
package appearance

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/fixed"
)

// Kind says which of the three Decree 30 appearances a Spec describes.
type Kind int

const (
	// Signer is a person's signature: authority form, title, handwritten
	// signature image and full name.
	Signer Kind = iota
	// Organization is the organisation's signature applied by the clerk:
	// the red seal at real size plus the organisation and signing time.
	Organization
	// Copy is the text-only organisation signature of electronic copies and
	// separate attachments, placed top right of page 1.
	Copy
)

func (k Kind) String() string {
	switch k {
	case Signer:
		return "signer"
	case Organization:
		return "organization"
	case Copy:
		return "copy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// DefaultSealDiameterMM is the usual size of a round organisation seal.
const DefaultSealDiameterMM = 36

// Spec is what an appearance shows. Text may be in any Unicode
// normalisation form; it is drawn in NFC.
type Spec struct {
	Kind Kind
	// Authority is the authority form line, e.g. "KT. CHỦ TỊCH",
	// "TM. ỦY BAN NHÂN DÂN"; empty when signing in one's own name.
	Authority string
	Title     string // chức vụ, e.g. "PHÓ CHỦ TỊCH"; for Copy, the form of copy ("SAO Y")
	Name      string // full name, e.g. "Nguyễn Văn An"
	// SignatureImage is the handwritten signature (transparent PNG) drawn
	// between title and name for Signer.
	SignatureImage image.Image
	// SealImage is the organisation's seal for Organization, drawn at
	// SealDiameterMM (DefaultSealDiameterMM when zero).
	SealImage      image.Image
	SealDiameterMM float64
	Organization   string    // Organization and Copy
	Time           time.Time // shown as ISO 8601 in +07:00; omitted when zero
	Number, Date   string    // document number and date, shown by Organization when given
	Lines          []string  // extra lines, e.g. "SAO Y", "Số: 12/SY-UBND"
}

// vietnam is the offset every appearance shows times in (the country has
// one time zone and no daylight saving).
var vietnam = time.FixedZone("+07", 7*3600)

// FormatTime is how appearances show a signing time:
// ISO 8601 with the +07:00 offset, e.g. 2026-03-12T09:41:05+07:00.
func FormatTime(t time.Time) string {
	return t.In(vietnam).Format("2006-01-02T15:04:05-07:00")
}

var (
	ink  = color.NRGBA{0, 0, 0, 255}
	gray = color.NRGBA{40, 40, 40, 255}
)

// Limits that keep any input from exhausting memory.
const (
	minDPI    = 36
	maxDPI    = 1200
	maxPixels = 40 << 20
)

// Render draws the appearance into a w×h point box at dpi and returns it
// with a transparent background. Text is shrunk and wrapped to fit; if it
// cannot fit even at a few points, Render fails rather than clip it.
func Render(spec Spec, wPt, hPt float64, dpi int) (*image.NRGBA, error) {
	if dpi < minDPI || dpi > maxDPI {
		return nil, fmt.Errorf("appearance: dpi %d outside %d–%d", dpi, minDPI, maxDPI)
	}
	if !(wPt > 0 && hPt > 0) {
		return nil, fmt.Errorf("appearance: empty box %.1f×%.1f pt", wPt, hPt)
	}
	wPx, hPx := ptToPx(wPt, dpi), ptToPx(hPt, dpi)
	if wPx < 1 || hPx < 1 || float64(wPx)*float64(hPx) > maxPixels {
		return nil, fmt.Errorf("appearance: box %.1f×%.1f pt at %d dpi is %d×%d pixels, outside limits", wPt, hPt, dpi, wPx, hPx)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, wPx, hPx))
	var err error
	switch spec.Kind {
	case Signer:
		err = renderSigner(dst, spec, dpi)
	case Organization:
		err = renderOrganization(dst, spec, dpi)
	case Copy:
		err = renderCopy(dst, spec, dpi)
	default:
		err = fmt.Errorf("appearance: unknown kind %d", int(spec.Kind))
	}
	if err != nil {
		return nil, fmt.Errorf("render %s appearance: %w", spec.Kind, err)
	}
	return dst, nil
}

func ptToPx(pt float64, dpi int) int { return int(pt*float64(dpi)/72 + 0.5) }

func sealDiameterPt(spec Spec) float64 {
	d := spec.SealDiameterMM
	if !(d > 0) || d > 200 {
		d = DefaultSealDiameterMM
	}
	return d / 25.4 * 72
}

// Decree 30 sizes: title and name 13–14 pt bold; we use 13 so the usual
// titles fit the usual signature box without shrinking.
var (
	headStyle  = style{bold: true, size: 13, color: ink}
	nameStyle  = style{bold: true, size: 13, color: ink}
	smallBold  = style{bold: true, size: 7.5, color: gray}
	smallStyle = style{size: 7.5, color: gray}
	copyStyle  = style{size: 10, color: ink}
)

// signerParas returns the text above the signature and the name below it.
func signerParas(spec Spec) (head []para, name []para) {
	for _, s := range []string{spec.Authority, spec.Title} {
		if s = normalise(s); s != "" {
			head = append(head, para{strings.ToUpper(s), headStyle})
		}
	}
	if s := normalise(spec.Name); s != "" {
		name = append(name, para{s, nameStyle})
	}
	return head, name
}

// minSignatureShare is the part of a signer box's height kept for the
// handwritten signature, whatever the text needs.
const minSignatureShare = 0.4

// signerLayout positions the signer's text and returns the box (in pixels,
// relative to the appearance) that the handwritten signature fills.
func signerLayout(spec Spec, wPx, hPx float64, dpi int) ([]line, image.Rectangle, error) {
	head, name := signerParas(spec)
	if len(name) == 0 {
		return nil, image.Rectangle{}, errors.New("a signer appearance needs the signer's name")
	}
	lines, textH, err := layoutBlock(append(append([]para{}, head...), name...), wPx, hPx*(1-minSignatureShare), dpi, true)
	if err != nil {
		return nil, image.Rectangle{}, err
	}
	nHead := 0
	for nHead < len(lines) && lines[nHead].para < len(head) {
		nHead++
	}
	headH := textH
	if nHead < len(lines) {
		headH = lines[nHead].top
	}
	nameH := textH - headH
	shift := fixed.Int26_6((hPx - textH) * 64) // the name goes to the bottom
	for i := nHead; i < len(lines); i++ {
		lines[i].baseline += shift
		lines[i].top += hPx - textH
	}
	sig := image.Rect(0, int(headH+0.5), int(wPx), int(hPx-nameH+0.5))
	return lines, sig, nil
}

func renderSigner(dst *image.NRGBA, spec Spec, dpi int) error {
	b := dst.Bounds()
	lines, sig, err := signerLayout(spec, float64(b.Dx()), float64(b.Dy()), dpi)
	if err != nil {
		return err
	}
	if spec.SignatureImage != nil {
		drawFitted(dst, sig.Inset(sig.Dy()/20), spec.SignatureImage)
	}
	return drawLines(dst, lines, 0, 0, dpi)
}

// orgParas is the organisation's text, shared by Organization and Copy.
func orgParas(spec Spec, name, small style) []para {
	var ps []para
	if s := normalise(spec.Title); s != "" && spec.Kind == Copy {
		// The form of copy (SAO Y, TRÍCH SAO, SAO LỤC) heads a copy block.
		ps = append(ps, para{s, name})
	}
	if s := normalise(spec.Organization); s != "" {
		ps = append(ps, para{s, name})
	}
	if !spec.Time.IsZero() {
		ps = append(ps, para{"Thời gian ký: " + FormatTime(spec.Time), small})
	}
	if s := normalise(spec.Number); s != "" {
		if !strings.HasPrefix(s, "Số") {
			s = "Số: " + s
		}
		ps = append(ps, para{s, small})
	}
	if s := normalise(spec.Date); s != "" {
		if !strings.HasPrefix(s, "Ngày") && !strings.Contains(s, ",") {
			s = "Ngày: " + s
		}
		ps = append(ps, para{s, small})
	}
	for _, l := range spec.Lines {
		if s := normalise(l); s != "" {
			ps = append(ps, para{s, small})
		}
	}
	return ps
}

// orgLayout places the seal and the text block of an Organization
// appearance. The seal keeps its real size when the box allows; text goes
// to the right of it in a wide box and below it otherwise.
func orgLayout(spec Spec, wPx, hPx float64, dpi int) (seal image.Rectangle, lines []line, dx, dy float64, err error) {
	if normalise(spec.Organization) == "" {
		return seal, nil, 0, 0, errors.New("an organisation appearance needs the organisation's name")
	}
	d := sealDiameterPt(spec) * float64(dpi) / 72
	ps := orgParas(spec, smallBold, smallStyle)
	minText := 60 * float64(dpi) / 72
	if wPx >= d+minText && wPx > hPx*1.3 {
		s := min(d, hPx)
		sy := (hPx - s) / 2
		seal = image.Rect(0, int(sy+0.5), int(s+0.5), int(sy+s+0.5))
		gap := 4 * float64(dpi) / 72
		lines, th, err := layoutBlock(ps, wPx-s-gap, hPx, dpi, false)
		if err != nil {
			return seal, nil, 0, 0, err
		}
		return seal, lines, s + gap, (hPx - th) / 2, nil
	}
	// The seal keeps its real size if the text at its nominal size still
	// fits below it; otherwise both give way, the seal down to 60%.
	_, natural, err := layoutBlock(ps, wPx, 1e6, dpi, true)
	if err != nil {
		return seal, nil, 0, 0, err
	}
	s := min(d, wPx, max(hPx-natural, hPx*0.6))
	lines, th, err := layoutBlock(ps, wPx, hPx-s, dpi, true)
	if err != nil {
		return seal, nil, 0, 0, err
	}
	// Seal and text stay together, centred vertically in the box.
	top := (hPx - s - th) / 2
	sx := (wPx - s) / 2
	seal = image.Rect(int(sx+0.5), int(top+0.5), int(sx+s+0.5), int(top+s+0.5))
	return seal, lines, 0, top + s, nil
}

func renderOrganization(dst *image.NRGBA, spec Spec, dpi int) error {
	b := dst.Bounds()
	seal, lines, dx, dy, err := orgLayout(spec, float64(b.Dx()), float64(b.Dy()), dpi)
	if err != nil {
		return err
	}
	if spec.SealImage != nil {
		drawFitted(dst, seal, spec.SealImage)
	}
	return drawLines(dst, lines, dx, dy, dpi)
}

func renderCopy(dst *image.NRGBA, spec Spec, dpi int) error {
	if normalise(spec.Organization) == "" {
		return errors.New("a copy appearance needs the organisation's name")
	}
	b := dst.Bounds()
	pad := 2 * float64(dpi) / 72
	lines, th, err := layoutBlock(orgParas(spec, copyStyle, copyStyle), float64(b.Dx())-2*pad, float64(b.Dy())-2*pad, dpi, false)
	if err != nil {
		return err
	}
	_ = th
	return drawLines(dst, lines, pad, pad, dpi)
}

// drawFitted scales src to fit inside r keeping its aspect ratio, centred,
// and composites it over dst.
func drawFitted(dst *image.NRGBA, r image.Rectangle, src image.Image) {
	sb := src.Bounds()
	if sb.Empty() || r.Empty() {
		return
	}
	scale := min(float64(r.Dx())/float64(sb.Dx()), float64(r.Dy())/float64(sb.Dy()))
	w, h := int(float64(sb.Dx())*scale+0.5), int(float64(sb.Dy())*scale+0.5)
	if w < 1 || h < 1 {
		return
	}
	x := r.Min.X + (r.Dx()-w)/2
	y := r.Min.Y + (r.Dy()-h)/2
	draw.CatmullRom.Scale(dst, image.Rect(x, y, x+w, y+h), src, sb, draw.Over, nil)
}

// Size returns a natural size in points for the appearance, for callers
// that have no rectangle of their own: text at its nominal size, the seal
// at real size, room for a handwritten signature.
func Size(spec Spec) (wPt, hPt float64) {
	const dpi = 72
	switch spec.Kind {
	case Organization:
		// As wide as the seal, so the text under it stays clear of the
		// signer's name when SealRect puts the seal over the signature.
		d := sealDiameterPt(spec)
		w := max(d, 90)
		_, th, err := layoutBlock(orgParas(spec, smallBold, smallStyle), w, 1e6, dpi, true)
		if err != nil {
			th = 40
		}
		return w, d + th
	case Copy:
		w := 200.0
		_, th, err := layoutBlock(orgParas(spec, copyStyle, copyStyle), w-4, 1e6, dpi, false)
		if err != nil {
			th = 60
		}
		return w, th + 4
	default:
		w := 200.0
		head, name := signerParas(spec)
		_, th, err := layoutBlock(append(head, name...), w, 1e6, dpi, true)
		if err != nil {
			th = 50
		}
		return w, th + 70
	}
}
