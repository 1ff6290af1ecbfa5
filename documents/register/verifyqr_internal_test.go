package register

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/vanthu/vanthu/signing/appearance"
)

// TestPlaceSealSamePixels: a seal copied row by row onto the transparent
// canvas is the seal image/draw composes there, for a seal whose bounds
// do not start at the origin too.
func TestPlaceSealSamePixels(t *testing.T) {
	full := appearance.DemoSeal("Ủy ban nhân dân xã An Bình")
	for _, tc := range []struct {
		name string
		seal *image.NRGBA
		at   image.Point
	}{
		{"whole seal", full, image.Pt(130, 0)},
		{"sub-image", full.SubImage(image.Rect(50, 70, 400, 380)).(*image.NRGBA), image.Pt(7, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := tc.seal.Bounds()
			r := image.Rect(0, 0, tc.at.X+sb.Dx(), tc.at.Y+sb.Dy())
			fast, slow := image.NewNRGBA(r), image.NewNRGBA(r)
			placeSeal(fast, tc.at, tc.seal)
			draw.Draw(slow, sb.Sub(sb.Min).Add(tc.at), tc.seal, sb.Min, draw.Over)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					f, s := fast.NRGBAAt(x, y), slow.NRGBAAt(x, y)
					if !close8(f, s) {
						t.Fatalf("pixel (%d, %d): %v, image/draw %v", x, y, f, s)
					}
				}
			}
		})
	}
}

// close8: image/draw composes in premultiplied 16-bit colour, so a
// translucent pixel it writes back may differ by rounding.
func close8(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return x-y <= 2 || y-x <= 2 }
	if a.A == 0 && b.A == 0 {
		return true
	}
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}
