package register

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"time"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/storage"
)

// SealImageFunc returns an organisation's seal image (nil: none): a
// *StoredSealImage for a seal kept as a file, whose encoding is then keyed
// by the file's hash.
type SealImageFunc func(ctx context.Context, org storage.Organization) (image.Image, error)

// errNoSignerWidget: the signed file has no visible signature for the
// seal to cover.
var errNoSignerWidget = errors.New("the signed file has no visible signature of the signer for the seal to cover")

// SignerWidget finds the last visible signature field of a signed PDF
// (the signer's, the one the seal covers) from its widget: the page it is
// on and its /Rect. It reads the signature fields, never the page text.
func SignerWidget(r io.ReaderAt, size int64) (page int, rect appearance.Rect, err error) {
	doc, err := pdfupdate.Open(r, size)
	if err != nil {
		return 0, rect, err
	}
	return signerWidget(doc)
}

func signerWidget(doc *pdfupdate.Doc) (page int, rect appearance.Rect, err error) {
	cat, err := doc.Catalog()
	if err != nil {
		return 0, rect, err
	}
	var pageID uint32
	found := false
	err = pdfupdate.Safe(func() error {
		fields := cat.Key("AcroForm").Key("Fields")
		for i := 0; i < fields.Len(); i++ {
			f := fields.Index(i)
			if f.Key("FT").Name() != "Sig" || f.Key("V").Kind() != pdf.Dict {
				continue
			}
			w := f
			if f.Key("Rect").Kind() != pdf.Array && f.Key("Kids").Len() > 0 {
				w = f.Key("Kids").Index(0)
			}
			rc := w.Key("Rect")
			if rc.Len() != 4 {
				continue
			}
			c := appearance.Rect{X1: rc.Index(0).Float64(), Y1: rc.Index(1).Float64(), X2: rc.Index(2).Float64(), Y2: rc.Index(3).Float64()}.Canon()
			if !(c.W() >= 1 && c.H() >= 1) || math.IsInf(c.W(), 0) || math.IsNaN(c.W()) || math.IsNaN(c.H()) {
				continue // an invisible signature
			}
			rect, pageID, found = c, w.Key("P").GetPtr().GetID(), true
		}
		return nil
	})
	if err != nil {
		return 0, rect, err
	}
	if !found {
		return 0, rect, errNoSignerWidget
	}
	n, err := doc.NumPages()
	if err != nil {
		return 0, rect, err
	}
	page = 1
	if pageID != 0 {
		for i := 1; i <= n; i++ {
			if _, ref, err := doc.Page(i); err == nil && ref.Num == pageID {
				page = i
				break
			}
		}
	}
	return page, rect, nil
}

// sealDiameterPt is the seal's real size (Decree 30: 36 mm usual).
const sealDiameterPt = appearance.DefaultSealDiameterMM / 25.4 * 72

// textSeal is the appearance of an organisation without a seal image: its
// name, the number and the time (+07:00) the signature carries, drawn where
// the seal would be.
func textSeal(org storage.Organization, at time.Time, symbol string) (image.Image, error) {
	spec := appearance.Spec{Kind: appearance.Copy, Organization: org.Name, Time: at, Lines: []string{"Số: " + symbol}}
	img, err := appearance.Render(spec, sealDiameterPt, sealDiameterPt, 200)
	if err != nil {
		return nil, fmt.Errorf("%w: seal appearance: %v", ErrSeal, err)
	}
	return img, nil
}

// Layout is where the organisation's signature goes on a signed PDF: the
// signer's widget (found from the signature fields, never from the text)
// and the blanks page 1 prints for the number and the date. It is measured
// once, before the number is known.
type Layout struct {
	Page         int
	Signer       appearance.Rect
	Placeholders appearance.Placeholders
}

// Measure reads the layout of a signed PDF.
func Measure(in io.ReaderAt, size int64) (*Layout, error) {
	src, err := signing.OpenSource(in, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	return measure(src)
}

// measure is Measure on a parsed version.
func measure(src *signing.Source) (*Layout, error) {
	page, w, err := signerWidget(src.Doc())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	ph, err := src.Appearance().Placeholders()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	return &Layout{Page: page, Signer: w, Placeholders: ph}, nil
}

// Visible lays out the organisation's signature as Decree 30 does: the
// seal image at real size (36 mm) covering about the left third of the
// signer's signature image ("trùm lên khoảng 1/3 chữ ký về phía bên trái"):
// its right edge a third into the signer's widget, centred on the widget's
// height; and the number (when number > 0) and the date (when at is not
// zero) written into the page's blanks. Nothing is drawn over the signer's
// name. The warnings say what could not be written.
func (l *Layout) Visible(seal image.Image, number int, at time.Time) (*signing.Visible, []string, error) {
	d := sealDiameterPt
	w := l.Signer
	right := w.X1 + w.W()/3
	cy := (w.Y1 + w.Y2) / 2
	rect := appearance.Rect{X1: right - d, Y1: cy - d/2, X2: right, Y2: cy + d/2}
	vis := &signing.Visible{Page: l.Page, Rect: [4]float64{rect.X1, rect.Y1, rect.X2, rect.Y2}, Image: seal}
	texts, warnings, err := placeholderTexts(l.Placeholders, number, at)
	if err != nil {
		return nil, nil, err
	}
	vis.Texts = texts
	return vis, warnings, nil
}

// SealLayout measures a signed PDF and lays out the organisation's
// signature on it (Measure, then Layout.Visible).
func SealLayout(in io.ReaderAt, size int64, seal image.Image, number int, at time.Time) (*signing.Visible, []string, error) {
	l, err := Measure(in, size)
	if err != nil {
		return nil, nil, err
	}
	return l.Visible(seal, number, at)
}

// PlaceholderTexts writes the number and the date into the blanks the
// document prints for them on page 1 ("Số:    /QĐ-UBND", "…, ngày   tháng
// năm 2026"), as locked text annotations of the organisation's signature
// revision: never into the page's content, so every earlier signature
// stays valid.
// A document that prints no blank, or another year than the issuing year,
// is issued with a warning.
func PlaceholderTexts(in io.ReaderAt, size int64, number int, at time.Time) ([]signing.Text, []string, error) {
	ph, err := appearance.FindPlaceholders(in, size)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	return placeholderTexts(ph, number, at)
}

func placeholderTexts(ph appearance.Placeholders, number int, at time.Time) ([]signing.Text, []string, error) {
	local := at.In(Vietnam)
	var out []signing.Text
	var warnings []string
	if number <= 0 {
		// No number to write (a seal applied by hand without --number).
	} else if ph.Number != nil {
		w, err := slotWidget(ph.Page, *ph.Number, fmt.Sprintf("%02d", number), alignRight)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, w)
	} else {
		warnings = append(warnings, "the document prints no blank number (\"Số:    /…\") on page 1: the number is in the register and the organisation's signature only")
	}
	if at.IsZero() {
		// No date to write.
	} else if ph.Day != nil && ph.Month != nil {
		if ph.Year != 0 && ph.Year != local.Year() {
			// The printed year is the signed content, which the clerk cannot
			// change; the register and the signature carry the true date.
			warnings = append(warnings, fmt.Sprintf("the document prints the year %d on its date line and is issued in %d", ph.Year, local.Year()))
		}
		day, month := DateParts(local)
		for _, x := range []struct {
			slot appearance.Slot
			text string
		}{{*ph.Day, day}, {*ph.Month, month}} {
			w, err := slotWidget(ph.Page, x.slot, x.text, alignCentre)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, w)
		}
	} else {
		warnings = append(warnings, "the document prints no blank date (\"ngày   tháng   năm\") on page 1: the date is in the register and the organisation's signature only")
	}
	return out, warnings, nil
}

// DateParts is the day and the month as a Decree 30 date writes them: a
// leading 0 before a day under 10 and before the months 1 and 2
// ("ngày 05 tháng 02", "ngày 15 tháng 3").
func DateParts(t time.Time) (day, month string) {
	day = fmt.Sprintf("%02d", t.Day())
	month = fmt.Sprint(int(t.Month()))
	if t.Month() < 3 {
		month = fmt.Sprintf("%02d", int(t.Month()))
	}
	return day, month
}

type align int

const (
	alignRight  align = iota // against the word after the blank: "Số:    05/QĐ-UBND"
	alignCentre              // in the middle of the blank: "ngày 05 tháng"
)

// slotWidget is a text annotation showing text in a blank, in the line's own size
// (smaller when the blank is too narrow for it).
func slotWidget(page int, s appearance.Slot, text string, a align) (signing.Text, error) {
	const gap = 0.5 // points kept clear of the printed words
	size := s.Size
	width, err := appearance.TextWidth(text, size)
	if err != nil {
		return signing.Text{}, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	room := s.Rect.W() - 2*gap
	if width > room && room > 0 {
		size *= room / width
		width = room
	}
	x1 := s.Rect.X2 - gap - width
	if a == alignCentre {
		x1 = s.Rect.X1 + (s.Rect.W()-width)/2
	}
	return signing.Text{Page: page, Rect: [4]float64{x1, s.Rect.Y1, x1 + width, s.Rect.Y2},
		Text: text, Size: size, Baseline: s.Baseline - s.Rect.Y1}, nil
}

// StoredSealImage is an organisation's seal image as a deployment keeps
// it: the image decoded from its stored file, and the SHA-256 of that
// file. Issuing keys the seal's encoding for the PDF by that hash, so a
// stored seal is encoded once and never read pixel by pixel again; a
// SealImageFunc returns one (DecodeSealImage) rather than the bare image.
type StoredSealImage struct {
	image.Image
	SHA256 [sha256.Size]byte
}

// DecodeSealImage decodes a stored seal image file (PNG) into the seal
// image and its content key.
func DecodeSealImage(file []byte) (*StoredSealImage, error) {
	img, err := png.Decode(bytes.NewReader(file))
	if err != nil {
		return nil, fmt.Errorf("seal image: %w", err)
	}
	return &StoredSealImage{Image: img, SHA256: sha256.Sum256(file)}, nil
}

// sealPixels is the image a SealImageFunc returned, without the content
// key a stored seal carries.
func sealPixels(img image.Image) image.Image {
	if s, ok := img.(*StoredSealImage); ok {
		if s == nil {
			return nil
		}
		return s.Image
	}
	return img
}

// SealImageOf is the organisation's seal image (nil: none, a text-only
// appearance), ready to draw.
func (s *Service) SealImageOf(ctx context.Context, org storage.Organization) (image.Image, error) {
	img, err := s.sealImage(ctx, org)
	return sealPixels(img), err
}

// sealImage is what SealImage returns for org (nil: none).
func (s *Service) sealImage(ctx context.Context, org storage.Organization) (image.Image, error) {
	if s.SealImage == nil {
		return nil, nil
	}
	img, err := s.SealImage(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("seal image of %s: %w", org.Code, err)
	}
	return img, nil
}

// sealImages keeps the encodings of the organisations' seal images: by the
// content key of a stored seal (StoredSealImage), else by a SHA-256 of the
// image's pixels; one per organisation issuing lately.
var sealImages = signing.NewImageCache(64, 16<<20)

// encodeSeal is img's encoding for the PDF, from sealImages.
func encodeSeal(img image.Image) (*signing.EncodedImage, error) {
	if s, ok := img.(*StoredSealImage); ok {
		return sealImages.Encoded(s.SHA256, s.Image)
	}
	return sealImages.Encode(img)
}
