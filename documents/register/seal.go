package register

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"time"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/storage"
)

// SealImageFunc returns an organisation's seal image (nil: none).
type SealImageFunc func(ctx context.Context, org storage.Organization) (image.Image, error)

// errNoSignerWidget: the signed file has no visible signature for the
// seal to cover.
var errNoSignerWidget = errors.New("the signed file has no visible signature of the signer for the seal to cover")

// signerWidget finds the last visible signature field of a signed PDF
// (the signer's, the one the seal covers) from its widget: the page it is
// on and its /Rect. It reads the signature fields, never the page text.
func signerWidget(r io.ReaderAt, size int64) (page int, rect appearance.Rect, err error) {
	doc, err := pdfupdate.Open(r, size)
	if err != nil {
		return 0, rect, err
	}
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

// sealAppearance places the organisation's signature so that the seal, at
// real size, covers about the left third of the signer's signature
// (Decree 30: "trùm lên khoảng 1/3 chữ ký về phía bên trái"): its right edge
// a third into the signer's widget, centred on the widget's height. With
// no seal image the widget shows the organisation, the number and the time
// as text.
func (s *Service) sealAppearance(ctx context.Context, in io.ReaderAt, size int64, org storage.Organization, at time.Time, symbol string) (*signing.Visible, error) {
	page, w, err := signerWidget(in, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	var img image.Image
	if s.SealImage != nil {
		if img, err = s.SealImage(ctx, org); err != nil {
			return nil, fmt.Errorf("seal image of %s: %w", org.Code, err)
		}
	}
	d := sealDiameterPt
	right := w.X1 + w.W()/3
	cy := (w.Y1 + w.Y2) / 2
	rect := appearance.Rect{X1: right - d, Y1: cy - d/2, X2: right, Y2: cy + d/2}
	vis := &signing.Visible{Page: page, Rect: [4]float64{rect.X1, rect.Y1, rect.X2, rect.Y2}, Image: img}
	if img == nil {
		// The organisation's name, the number and the time (+07:00) the
		// signature carries, drawn where the seal would be.
		spec := appearance.Spec{Kind: appearance.Copy, Organization: org.Name, Time: at, Lines: []string{"Số: " + symbol}}
		if vis.Image, err = appearance.Render(spec, d, d, 200); err != nil {
			return nil, fmt.Errorf("%w: seal appearance: %v", ErrSeal, err)
		}
	}
	return vis, nil
}
