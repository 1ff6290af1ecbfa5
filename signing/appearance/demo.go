package appearance

import (
	"hash/fnv"
	"image"
	"image/color"
	"math"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/math/f64"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Demo images are generated so that tests, demos and `vanthu pki init` can
// produce sig.png and seal.png without binary fixtures in the repository.

var (
	signatureBlue = color.NRGBA{20, 45, 160, 255}
	sealRed       = color.NRGBA{218, 30, 40, 255}
)

// alphaCanvas accumulates coverage in [0,1] per pixel; strokes combine by
// max so overlapping pen stamps do not darken.
type alphaCanvas struct {
	w, h int
	a    []float64
}

func newAlphaCanvas(w, h int) *alphaCanvas {
	return &alphaCanvas{w: w, h: h, a: make([]float64, w*h)}
}

// disc stamps an anti-aliased disc of radius r at (cx, cy).
func (c *alphaCanvas) disc(cx, cy, r float64) {
	x0, x1 := max(0, int(cx-r-1)), min(c.w-1, int(cx+r+1))
	y0, y1 := max(0, int(cy-r-1)), min(c.h-1, int(cy+r+1))
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			v := math.Min(1, math.Max(0, r+0.5-d))
			if i := y*c.w + x; v > c.a[i] {
				c.a[i] = v
			}
		}
	}
}

// stroke draws the curve p(t), t in [0,1], with pen radius r(t).
func (c *alphaCanvas) stroke(p func(t float64) (x, y float64), r func(t float64) float64) {
	const steps = 4000
	for i := 0; i <= steps; i++ {
		t := float64(i) / steps
		x, y := p(t)
		c.disc(x, y, r(t))
	}
}

func (c *alphaCanvas) image(col color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, c.w, c.h))
	for i, v := range c.a {
		if v <= 0 {
			continue
		}
		img.Pix[4*i+0] = col.R
		img.Pix[4*i+1] = col.G
		img.Pix[4*i+2] = col.B
		img.Pix[4*i+3] = uint8(math.Round(v * float64(col.A)))
	}
	return img
}

func seed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(normalise(s)))
	return h.Sum64()
}

// DemoSignature returns a transparent 600×220 image of a blue,
// handwritten-looking stroke; different names give different strokes.
func DemoSignature(name string) *image.NRGBA {
	const w, h = 600, 220
	s := seed(name)
	loops := 3 + float64(s%3)
	phase := float64(s>>8%628) / 100
	tilt := 0.25 + float64(s>>20%20)/100
	amp := 45 + float64(s>>32%20)
	c := newAlphaCanvas(w, h)
	// A run of slanted loops (a trochoid), like a fast cursive signature.
	c.stroke(func(t float64) (float64, float64) {
		a := 2*math.Pi*loops*t + phase
		env := math.Sin(math.Pi * math.Min(1, t*1.15))
		y := 105 - amp*env*math.Sin(a)
		x := 50 + 430*t + 38*math.Cos(a) + tilt*(105-y)
		return x, y
	}, func(t float64) float64 { return 3.2 + 1.3*math.Sin(9*t+phase) })
	// The underline flourish.
	c.stroke(func(t float64) (float64, float64) {
		return 70 + 480*t, 175 - 45*t*t + 10*math.Sin(3*t)
	}, func(t float64) float64 { return 3.5 - 2.3*t })
	return c.image(signatureBlue)
}

// DemoSeal returns a transparent 600×600 image of a red round seal: a
// double ring, the organisation's name in capitals around it and a star in
// the middle. The outer ring touches the image's edges, so drawing the
// image at the seal's diameter draws the seal at real size.
func DemoSeal(org string) *image.NRGBA {
	const size = 600
	const cx, cy = size / 2.0, size / 2.0
	c := newAlphaCanvas(size, size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			ring := func(rOut, rIn float64) float64 {
				return math.Min(1, math.Max(0, rOut+0.5-d)) * math.Min(1, math.Max(0, d-rIn+0.5))
			}
			c.a[y*size+x] = math.Max(ring(299, 283), ring(206, 198))
		}
	}
	img := c.image(sealRed)
	drawStar(img, cx, cy, 95, 38)
	drawArcText(img, strings.ToUpper(normalise(org)), cx, cy, 226)
	return img
}

// drawStar fills a five-pointed star centred at (cx, cy).
func drawStar(dst *image.NRGBA, cx, cy, rOut, rIn float64) {
	b := dst.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	for i := 0; i < 10; i++ {
		r := rOut
		if i%2 == 1 {
			r = rIn
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		x, y := float32(cx+r*math.Cos(a)), float32(cy+r*math.Sin(a))
		if i == 0 {
			z.MoveTo(x, y)
		} else {
			z.LineTo(x, y)
		}
	}
	z.ClosePath()
	z.Draw(dst, b, image.NewUniform(sealRed), image.Point{})
}

// drawArcText writes text around a circle of radius r (the glyphs' baseline),
// centred on the top, upright towards the outside, shrinking the font so it
// spans at most 300°.
func drawArcText(dst *image.NRGBA, text string, cx, cy, r float64) {
	if text == "" {
		return
	}
	size := 52.0
	var face font.Face
	var total float64
	for {
		f, err := newFace(true, size, 72)
		if err != nil {
			return
		}
		total = float64(font.MeasureString(f, text)) / 64
		total += float64(len([]rune(text))) * size * 0.08 // letter spacing
		if total/r <= 300*math.Pi/180 || size <= 14 {
			face = f
			break
		}
		f.Close()
		size *= 0.92
	}
	defer face.Close()
	spacing := size * 0.08
	phi := -total / r / 2 // angle from the top, clockwise
	for _, ch := range text {
		adv, ok := face.GlyphAdvance(ch)
		if !ok {
			continue
		}
		a := float64(adv) / 64
		mid := phi + (a/2)/r
		drawRotatedGlyph(dst, face, ch, size, a, cx+r*math.Sin(mid), cy-r*math.Cos(mid), mid)
		phi += (a + spacing) / r
	}
}

// drawRotatedGlyph draws ch so that the middle of its baseline lands on
// (px, py), rotated by angle radians clockwise.
func drawRotatedGlyph(dst *image.NRGBA, face font.Face, ch rune, size, adv, px, py, angle float64) {
	gw, gh := int(adv+size*0.4)+2, int(size*1.6)+2
	g := image.NewNRGBA(image.Rect(0, 0, gw, gh))
	ax, ay := float64(gw)/2, size*1.15 // baseline middle inside g
	d := font.Drawer{Dst: g, Src: image.NewUniform(sealRed), Face: face,
		Dot: fixed.Point26_6{X: fixed.Int26_6((ax - adv/2) * 64), Y: fixed.Int26_6(ay * 64)}}
	d.DrawString(string(ch))
	sin, cos := math.Sincos(angle)
	m := f64.Aff3{
		cos, -sin, px - (cos*ax - sin*ay),
		sin, cos, py - (sin*ax + cos*ay),
	}
	draw.BiLinear.Transform(dst, m, g, g.Bounds(), draw.Over, nil)
}
