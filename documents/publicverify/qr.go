package publicverify

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	qrcode "github.com/skip2/go-qrcode"
)

// URL is the verification address a QR code carries: the deployment's
// public base URL and the file's code.
func URL(base, code string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + "/v/" + code
}

// QR draws the QR code of url as an opaque black-on-white image about px
// pixels wide, with its quiet zone, at medium error correction (a printed
// copy stays readable with a stain).
func QR(url string, px int) (image.Image, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code of %q: %w", url, err)
	}
	return q.Image(px), nil
}

// WithQR returns the appearance with the QR code of url drawn at its right
// end, a square as high as the appearance, the text to its left: the copy
// block of a copy, or an organisation's signature when the organisation
// turns the QR on. appearance is the rendered block (signing/appearance),
// with room on the right of its text; the result is the same size.
func WithQR(appearance image.Image, url string) (*image.NRGBA, error) {
	b := appearance.Bounds()
	side := b.Dy()
	if side < 21 || b.Dx() < 2*side {
		return nil, fmt.Errorf("qr code: a %dx%d appearance has no room for a code", b.Dx(), b.Dy())
	}
	q, err := QR(url, side)
	if err != nil {
		return nil, err
	}
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), appearance, b.Min, draw.Src)
	at := image.Rect(b.Dx()-side, 0, b.Dx(), side)
	draw.Draw(out, at, &image.Uniform{color.White}, image.Point{}, draw.Src)
	qb := q.Bounds()
	// Centred: the library's size is approximate to whole modules.
	off := image.Pt(at.Min.X+(side-qb.Dx())/2, (side-qb.Dy())/2)
	draw.Draw(out, qb.Add(off).Intersect(at), q, qb.Min, draw.Src)
	return out, nil
}

// DrawQR draws the QR code of url (medium error correction, with its
// quiet zone) filling the square at, black on white, each module a
// rectangle of the square's share, so the code's grid is the square's
// (QR's image is only about the size asked for).
func DrawQR(dst draw.Image, at image.Rectangle, url string) error {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("qr code of %q: %w", url, err)
	}
	bm := q.Bitmap()
	n := len(bm)
	fill(dst, at, color.NRGBA{255, 255, 255, 255})
	for r, row := range bm {
		for c, dark := range row {
			if !dark {
				continue
			}
			cell := image.Rect(at.Min.X+c*at.Dx()/n, at.Min.Y+r*at.Dy()/n, at.Min.X+(c+1)*at.Dx()/n, at.Min.Y+(r+1)*at.Dy()/n)
			fill(dst, cell, color.NRGBA{0, 0, 0, 255})
		}
	}
	return nil
}

// fill paints r of dst with the opaque colour c: on an *image.NRGBA (the
// canvas an issued document's seal is drawn on) by writing its pixels,
// which image/draw does one by one through colour conversions (a
// seal-sized code took tens of milliseconds of CPU).
func fill(dst draw.Image, r image.Rectangle, c color.NRGBA) {
	img, ok := dst.(*image.NRGBA)
	if !ok {
		draw.Draw(dst, r, &image.Uniform{c}, image.Point{}, draw.Src)
		return
	}
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	px := [4]byte{c.R, c.G, c.B, c.A}
	first := img.Pix[img.PixOffset(r.Min.X, r.Min.Y) : img.PixOffset(r.Max.X-1, r.Min.Y)+4]
	for i := 0; i < len(first); i += 4 {
		copy(first[i:i+4], px[:])
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		i := img.PixOffset(r.Min.X, y)
		copy(img.Pix[i:i+len(first)], first)
	}
}
