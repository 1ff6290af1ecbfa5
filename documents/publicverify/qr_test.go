package publicverify

import (
	"image"
	"image/color"
	"testing"
)

// otherImage is a draw.Image that is not an *image.NRGBA: DrawQR draws on
// it through image/draw.
type otherImage struct{ *image.RGBA }

// TestDrawQRSamePixels: the code drawn on an *image.NRGBA (written pixel
// rows) is the code image/draw draws on any other image, over a canvas
// offset from the origin and a square partly outside it.
func TestDrawQRSamePixels(t *testing.T) {
	const url = "https://vanthu.example/v/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	for _, tc := range []struct {
		name   string
		bounds image.Rectangle
		at     image.Rectangle
	}{
		{"square inside", image.Rect(0, 0, 300, 200), image.Rect(10, 20, 190, 200)},
		{"offset canvas", image.Rect(-40, 15, 260, 215), image.Rect(-30, 15, 150, 195)},
		{"square partly outside", image.Rect(0, 0, 120, 120), image.Rect(-20, 30, 160, 210)},
		{"small square", image.Rect(0, 0, 50, 50), image.Rect(5, 5, 30, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast := image.NewNRGBA(tc.bounds)
			slow := otherImage{image.NewRGBA(tc.bounds)}
			if err := DrawQR(fast, tc.at, url); err != nil {
				t.Fatal(err)
			}
			if err := DrawQR(slow, tc.at, url); err != nil {
				t.Fatal(err)
			}
			dark := 0
			for y := tc.bounds.Min.Y; y < tc.bounds.Max.Y; y++ {
				for x := tc.bounds.Min.X; x < tc.bounds.Max.X; x++ {
					f := color.NRGBAModel.Convert(fast.At(x, y)).(color.NRGBA)
					s := color.NRGBAModel.Convert(slow.At(x, y)).(color.NRGBA)
					if f != s {
						t.Fatalf("pixel (%d, %d): %v, image/draw %v", x, y, f, s)
					}
					if f == (color.NRGBA{0, 0, 0, 255}) {
						dark++
					}
				}
			}
			if dark == 0 {
				t.Fatal("no module drawn")
			}
		})
	}
}
