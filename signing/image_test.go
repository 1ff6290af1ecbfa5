package signing

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/vanthu/vanthu/signing/appearance"
)

// referenceSamples is how EncodeImage read every image before it read pixel
// slices: image.At, premultiplied 16-bit colour un-premultiplied, the top
// 8 bits kept. The fast paths must produce exactly these samples.
func referenceSamples(img image.Image) (rgb, alpha []byte, opaque bool) {
	bnd := img.Bounds()
	opaque = true
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			if a != 0 && a != 0xffff {
				r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
			}
			rgb = append(rgb, byte(r>>8), byte(g>>8), byte(b>>8))
			alpha = append(alpha, byte(a>>8))
			if a != 0xffff {
				opaque = false
			}
		}
	}
	return rgb, alpha, opaque
}

func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signatureLike draws a dark-blue stroke with anti-aliased (semi-transparent)
// edges on a transparent background, plus every alpha value once, in dst.
func signatureLike(dst draw.Image) {
	b := dst.Bounds()
	r := rand.New(rand.NewPCG(1, 2))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			cx := float64(x-b.Min.X)/float64(b.Dx()) - 0.5
			cy := float64(y-b.Min.Y)/float64(b.Dy()) - 0.5
			d := cx*cx*4 + cy*cy*9 - 0.6
			var a uint8
			switch {
			case d < -0.05 && d > -0.1:
				a = 0xff
			case d < 0 && d > -0.15:
				a = uint8(r.IntN(256)) // the edge: every alpha
			}
			dst.Set(x, y, color.NRGBA{R: uint8(r.IntN(256)), G: uint8(r.IntN(256)), B: 0x80, A: a})
		}
	}
	// Every alpha with every colour value at least once on the first rows.
	i := 0
	for y := b.Min.Y; y < b.Min.Y+4 && y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(x, y, color.NRGBA{R: uint8(i), G: uint8(i * 7), B: uint8(255 - i), A: uint8(i * 13)})
			i++
		}
	}
}

func TestEncodeImageSamples(t *testing.T) {
	rect := image.Rect(0, 0, 97, 41)
	nrgba := image.NewNRGBA(rect)
	signatureLike(nrgba)
	rgba := image.NewRGBA(rect)
	signatureLike(rgba)
	gray := image.NewGray(rect)
	signatureLike(gray)
	n64 := image.NewNRGBA64(rect)
	signatureLike(n64)
	r64 := image.NewRGBA64(rect)
	signatureLike(r64)
	// Premultiplied data out of range (colour above alpha) is read as
	// image.At reads it.
	for i := 0; i < 256; i++ {
		rgba.Pix[i*4], rgba.Pix[i*4+3] = 0xff, uint8(i)
	}
	opaqueRGBA := image.NewRGBA(rect)
	draw.Draw(opaqueRGBA, rect, &image.Uniform{color.RGBA{10, 20, 30, 255}}, image.Point{}, draw.Src)
	// A paletted PNG with transparency, as a scanner or an editor saves a
	// signature.
	pal := color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{0x10, 0x20, 0x90, 0xff}}
	for a := 1; a < 254; a += 3 {
		pal = append(pal, color.NRGBA{0x10, 0x20, 0x90, uint8(a)})
	}
	pm := image.NewPaletted(rect, pal)
	draw.Draw(pm, rect, nrgba, image.Point{}, draw.Src)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, pm); err != nil {
		t.Fatal(err)
	}
	decodedPaletted, err := png.Decode(&pngBuf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodedPaletted.(*image.Paletted); !ok {
		t.Fatalf("PNG decodes to %T, want *image.Paletted", decodedPaletted)
	}
	pngBuf.Reset()
	if err := png.Encode(&pngBuf, nrgba); err != nil {
		t.Fatal(err)
	}
	decodedNRGBA, err := png.Decode(&pngBuf)
	if err != nil {
		t.Fatal(err)
	}
	ycc := image.NewYCbCr(rect, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i)
	}
	sub := func(m image.Image) image.Image {
		return m.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(5, 3, 90, 39))
	}
	cases := []struct {
		name string
		img  image.Image
	}{
		{"NRGBA", nrgba},
		{"NRGBA sub-image", sub(nrgba)},
		{"RGBA premultiplied", rgba},
		{"RGBA sub-image", sub(rgba)},
		{"RGBA opaque", opaqueRGBA},
		{"Gray", gray},
		{"Gray sub-image", sub(gray)},
		{"Paletted from PNG", decodedPaletted},
		{"Paletted sub-image", sub(pm)},
		{"NRGBA from PNG", decodedNRGBA},
		{"NRGBA64", n64},
		{"NRGBA64 sub-image", sub(n64)},
		{"RGBA64", r64},
		{"YCbCr (image.At)", ycc},
		{"demo signature", appearance.DemoSignature("Trần Thị Bình")},
		{"demo seal", appearance.DemoSeal("ỦY BAN NHÂN DÂN TỈNH")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantRGB, wantAlpha, wantOpaque := referenceSamples(c.img)
			e, err := EncodeImage(c.img)
			if err != nil {
				t.Fatal(err)
			}
			if b := c.img.Bounds(); e.width != b.Dx() || e.height != b.Dy() {
				t.Fatalf("size %dx%d, want %dx%d", e.width, e.height, b.Dx(), b.Dy())
			}
			if got := inflate(t, e.rgb); !bytes.Equal(got, wantRGB) {
				t.Fatalf("RGB samples differ at byte %d", firstDiff(got, wantRGB))
			}
			if wantOpaque {
				if e.alpha != nil {
					t.Fatal("an opaque image got a soft mask")
				}
				return
			}
			if e.alpha == nil {
				t.Fatal("a transparent image got no soft mask")
			}
			if got := inflate(t, e.alpha); !bytes.Equal(got, wantAlpha) {
				t.Fatalf("alpha samples differ at byte %d", firstDiff(got, wantAlpha))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestEncodeImageRefuses: bad images are errors, never panics.
func TestEncodeImageRefuses(t *testing.T) {
	badIndex := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black})
	badIndex.Pix[5] = 7
	nilColour := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, nil})
	nilColour.Pix[3] = 1
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"nil", nil},
		{"empty", image.NewNRGBA(image.Rect(0, 0, 0, 5))},
		{"too wide", image.NewGray(image.Rect(0, 0, maxImageSide+1, 1))},
		{"palette index outside the palette", badIndex},
		{"nil palette colour", nilColour},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := EncodeImage(c.img); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// BenchmarkEncodeImage encodes the appearance images the service draws: a
// handwritten signature as PlaceInGap draws it and the seal as issuing
// draws it, and reports the encoded bytes.
//
//	go test ./signing -run '^$' -bench EncodeImage -benchtime 50x -count 5
func BenchmarkEncodeImage(b *testing.B) {
	seal, err := appearance.Render(appearance.Spec{Kind: appearance.Copy, Organization: "ỦY BAN NHÂN DÂN TỈNH BÌNH ĐỊNH",
		Lines: []string{"Số: 123/QĐ-UBND"}}, 102, 102, 200)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"signature", appearance.DemoSignature("Trần Thị Bình")},
		{"seal", appearance.DemoSeal("ỦY BAN NHÂN DÂN TỈNH BÌNH ĐỊNH")},
		{"text-seal", seal},
	} {
		bnd := c.img.Bounds()
		b.Run(fmt.Sprintf("%s/%dx%d", c.name, bnd.Dx(), bnd.Dy()), func(b *testing.B) {
			var e *EncodedImage
			for i := 0; i < b.N; i++ {
				if e, err = EncodeImage(c.img); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(e.rgb)+len(e.alpha)), "bytes")
		})
	}
}
