package appearance

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"
)

// CompareRegion says how alike two renderings of the same appearance are,
// typically a crop of a pdftoppm page render (got) and Render's output at
// the same dpi (want). Both are composited over white and turned to gray;
// got is scaled to want's size first, so a pixel of rounding in the crop
// does not matter. Only "ink" pixels count (darker than white by more than
// tolerance in either image), so blank space cannot inflate the score. An
// ink pixel matches when its value lies within tolerance of the range of
// values the other image has at the same place or one pixel away, which
// absorbs anti-aliasing, resampling blur and sub-pixel offsets.
//
// tolerance is a fraction of full scale: 0.1 for two of our own
// renderings; 0.3 for a poppler rendering of a placed appearance (its
// resampling softens thin strokes), where the same appearance scores above
// 0.9 and a different one well below. The result is the share of ink
// pixels that match, in [0,1]; two blank images give 1 and an empty image
// against ink gives 0.
func CompareRegion(got, want image.Image, tolerance float64) (similarity float64) {
	if got == nil || want == nil {
		return 0
	}
	wb := want.Bounds()
	if wb.Empty() || got.Bounds().Empty() {
		return 0
	}
	w, h := wb.Dx(), wb.Dy()
	a := grayOverWhite(want, w, h)
	b := grayOverWhite(got, w, h)
	tol := math.Max(0, math.Min(1, tolerance)) * 255
	// v matches when it lies within the range of the other image's 3×3
	// neighbourhood, widened by tol: resampling puts values between
	// neighbours, so sub-pixel shifts and blur still match.
	near := func(img []float64, x, y int, v float64) bool {
		lo, hi := 255.0, 0.0
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				xx, yy := x+dx, y+dy
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				lo, hi = math.Min(lo, img[yy*w+xx]), math.Max(hi, img[yy*w+xx])
			}
		}
		return v >= lo-tol && v <= hi+tol
	}
	ink, match := 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if 255-a[i] <= tol && 255-b[i] <= tol {
				continue
			}
			ink++
			if near(b, x, y, a[i]) && near(a, x, y, b[i]) {
				match++
			}
		}
	}
	if ink == 0 {
		return 1
	}
	return float64(match) / float64(ink)
}

// grayOverWhite scales img to w×h, composites it over white and returns
// its luminance, 0 (black) to 255 (white).
func grayOverWhite(img image.Image, w, h int) []float64 {
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	if ib := img.Bounds(); ib.Dx() == w && ib.Dy() == h {
		draw.Draw(rgba, rgba.Bounds(), img, ib.Min, draw.Over)
	} else {
		draw.BiLinear.Scale(rgba, rgba.Bounds(), img, ib, draw.Over, nil)
	}
	out := make([]float64, w*h)
	for i := range out {
		p := rgba.Pix[4*i : 4*i+3]
		out[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	return out
}
